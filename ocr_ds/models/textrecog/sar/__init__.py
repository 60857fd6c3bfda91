"""SAR (Show, Attend and Read, https://arxiv.org/abs/1811.00751), as MMOCR 0.6.3 builds it:
``SARNet`` = ``ResNet31OCR`` -> ``SAREncoder`` -> ``ParallelSARDecoder`` /
``SequentialSARDecoder``, ``SARLoss``, ``AttnConvertor``. Imported by name through
:mod:`ocr_ds.registry`.
"""

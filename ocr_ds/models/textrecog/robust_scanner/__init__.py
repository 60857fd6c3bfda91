"""RobustScanner (https://arxiv.org/abs/2007.07542), as MMOCR 0.6.3 builds it: ``ResNet31OCR`` ->
``ChannelReductionEncoder`` -> ``RobustScannerDecoder`` (a hybrid branch,
``SequenceAttentionDecoder``, and a position branch, ``PositionAttentionDecoder``, fused by a
gated linear layer), ``SARLoss``, ``AttnConvertor``. Imported by name through
:mod:`ocr_ds.registry`.
"""

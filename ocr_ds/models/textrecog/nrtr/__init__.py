"""NRTR (No-Recurrence sequence-to-sequence Text Recogniser, https://arxiv.org/abs/1806.00926),
as MMOCR 0.6.3 builds it: ``NRTR`` = ``NRTRModalityTransform`` (or ``ResNet31OCR`` in the r31
configs) -> ``NRTREncoder`` -> ``NRTRDecoder``, ``TFLoss``, ``AttnConvertor``. SATRN
(:mod:`..satrn`) decodes with the same ``NRTRDecoder``. Imported by name through
:mod:`ocr_ds.registry`.
"""

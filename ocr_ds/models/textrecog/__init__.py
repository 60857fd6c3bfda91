"""Text recognition models.

Shared by the encoder-decoder families (SAR, RobustScanner, and NRTR, SATRN, MASTER, ABINet):
:mod:`.recognizer` (``EncodeDecodeRecognizer``), :mod:`.base` (``BaseEncoder``,
``BaseDecoder``), :mod:`.convertors` (``AttnConvertor``, ``CTCConvertor``), :mod:`.losses` (``CELoss``,
``SARLoss``, ``TFLoss``), :mod:`.dictionary`; the backbone ``ResNet31OCR`` and the OCR residual
blocks are in :mod:`ocr_ds.models.common`. One folder per family: :mod:`.sar`,
:mod:`.robust_scanner` and :mod:`.crnn` (``CRNNNet``, ``VeryDeepVgg``, ``CRNNDecoder``; CTC in
:mod:`.convertors` and :mod:`.losses`); :mod:`.seg` (SegOCR's ``SegRecognizer`` on
``BaseRecognizer``, ``FPNOCR``, ``SegHead``, ``SegLoss``; ``SegConvertor`` in :mod:`.convertors`).

Modules are imported by name through :data:`ocr_ds.registry.MODELS` / ``COMPONENTS``; nothing
is imported here so that naming one part does not load the others.
"""

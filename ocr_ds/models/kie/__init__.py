"""Key information extraction models: one folder per family, :mod:`.sdmgr` (MMOCR 0.6.3's
``SDMGR``: ``SDMGRHead``, a graph network over the text boxes of a document image, and
``SDMGRLoss``; its visual encoder is :mod:`ocr_ds.models.common.unet`)."""

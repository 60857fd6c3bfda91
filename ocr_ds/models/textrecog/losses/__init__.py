"""Losses shared by recognisers: ``ctc`` (CTCLoss). Built by name through
:data:`ocr_ds.registry.COMPONENTS`."""

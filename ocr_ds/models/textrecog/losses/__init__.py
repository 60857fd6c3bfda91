"""Losses shared by recognisers: ``ctc`` (CTCLoss), ``ce`` (CELoss, SARLoss, TFLoss). Built by name through
:data:`ocr_ds.registry.COMPONENTS`."""

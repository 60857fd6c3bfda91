"""ocr_ds: MMOCR 0.x configs and interface, trained on DeepSpeed."""

__version__ = "0.1.0"

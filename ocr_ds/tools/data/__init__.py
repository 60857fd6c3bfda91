"""MMOCR 0.6.3's ``tools/data`` dataset converters, as ``python -m ocr_ds.tools.data.<task>.<name>``."""

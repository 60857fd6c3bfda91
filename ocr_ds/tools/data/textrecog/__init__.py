"""MMOCR 0.6.3's ``tools/data/textrecog/*_converter.py`` (cropped word images + label files).
Of the datasets MMOCR's detection configs name, only Total-Text has one in MMOCR 0.6.3."""

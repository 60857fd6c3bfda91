"""MMOCR 0.6.3's ``tools/data/textdet/*_converter.py``: same arguments, same output files
(``instances_<split>.json``, equal byte for byte to MMOCR's on the same input)."""

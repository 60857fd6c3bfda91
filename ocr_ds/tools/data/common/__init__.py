"""MMOCR 0.6.3's ``tools/data/common`` scripts: same arguments, same files."""

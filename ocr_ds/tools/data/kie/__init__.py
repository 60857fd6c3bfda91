"""MMOCR 0.6.3's ``tools/data/kie`` scripts: same arguments, same files."""

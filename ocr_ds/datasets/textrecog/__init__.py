"""Text recognition datasets: ``OCRDataset`` over txt / JSON-lines / lmdb annotations, and
``OCRSegDataset`` (SegOCR's, with character boxes).

Loaders (``AnnFileLoader`` and MMOCR's older ``HardDiskLoader`` / ``LmdbLoader``) and line
parsers (``LineStrParser``, ``LineJsonParser``) are named in configs and resolved through
:data:`ocr_ds.registry.LOADERS` / ``PARSERS``.
"""

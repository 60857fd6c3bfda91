"""SegOCR (MMOCR 0.6.3's segmentation-based recogniser): ``seg_recognizer`` (SegRecognizer),
``neck`` (FPNOCR), ``head`` (SegHead), ``loss`` (SegLoss). Its label convertor is
:mod:`ocr_ds.models.textrecog.convertors.seg`; its targets
:mod:`ocr_ds.datasets.pipelines.targets.seg`."""

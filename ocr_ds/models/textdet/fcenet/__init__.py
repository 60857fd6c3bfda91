"""FCENet (MMOCR 0.6.3): ``fcenet`` (the detector), ``fpn`` (mmdet's FPN neck), ``head``
(FCEHead), ``loss`` (FCELoss), ``postprocess`` (Fourier decoding and polygon NMS). Their
training targets are :mod:`ocr_ds.datasets.pipelines.targets.fcenet`.
"""

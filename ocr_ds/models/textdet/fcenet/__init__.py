"""FCENet (MMOCR 0.6.3): ``fcenet`` (the detector; its neck, mmdet's FPN, is
:mod:`ocr_ds.models.common.fpn`), ``head`` (FCEHead), ``loss`` (FCELoss), ``postprocess``
(Fourier decoding and polygon NMS). Their training targets are
:mod:`ocr_ds.datasets.pipelines.targets.fcenet`.
"""

"""TextSnake (MMOCR 0.6.3): ``textsnake`` (the detector), ``head``
(TextSnakeHead), ``loss`` (TextSnakeLoss), ``postprocess`` (disk decoding); the neck, FPN_UNet,
shared with DRRG, is :mod:`ocr_ds.models.common.fpn_unet`. Their training
targets are :mod:`ocr_ds.datasets.pipelines.targets.textsnake`.
"""

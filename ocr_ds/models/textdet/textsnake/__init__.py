"""TextSnake (MMOCR 0.6.3): ``textsnake`` (the detector), ``neck`` (FPN_UNet), ``head``
(TextSnakeHead), ``loss`` (TextSnakeLoss), ``postprocess`` (disk decoding). Their training
targets are :mod:`ocr_ds.datasets.pipelines.targets.textsnake`.
"""

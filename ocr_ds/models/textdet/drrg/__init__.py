"""DRRG (MMOCR 0.6.3): ``drrg`` (the detector), ``head`` (DRRGHead), ``gcn`` (GCN), ``graph``
(training local graphs), ``proposals`` (test-time components and graphs), ``roi_align_rotated``
(mmcv's op in PyTorch), ``loss`` (DRRGLoss), ``postprocess`` (DRRGPostprocessor). The neck is
FPN_UNet (``models/common/fpn_unet.py``, shared with TextSnake); the training targets are
:mod:`ocr_ds.datasets.pipelines.targets.drrg`.
"""

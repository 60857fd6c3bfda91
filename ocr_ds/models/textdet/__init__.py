"""Text detection models and their parts, in plain PyTorch.

Layout: ``detector`` (the shared backbone-neck-head model), one package per family
(``dbnet``: DBNet/DBNet++ with FPNC, DBHead, DBLoss, DBPostprocessor), and what PSENet and the
families share: ``necks`` (FPNF), ``heads`` (the head mixin, PSEHead), ``losses`` (PSELoss,
target resizing), ``postprocess`` / ``pse_postprocess`` (map -> boundaries). The backbone is
mmdet's ResNet in :mod:`ocr_ds.models.common.resnet`. Every part is built by name through
:data:`ocr_ds.registry.COMPONENTS`.
"""

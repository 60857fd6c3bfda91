"""Text detection models and their parts, in plain PyTorch.

Layout: ``detector`` (the backbone-neck-head model the segmentation detectors are),
``head_mixin`` (what their heads share: loss, post-processor, rescaling), ``postprocess``
(``points2boundary`` and other helpers the post-processors share), ``losses`` (``fit_target``),
and one folder per family: ``dbnet/`` (DBNet and DBNet++: FPNC, DBHead, DBLoss,
DBPostprocessor), ``psenet/`` (FPNF, PSEHead, PSELoss, PSEPostprocessor), ``panet/``
(FPEM_FFM, PANHead, PANLoss, PANPostprocessor and its ``pixel_group``), ``fcenet/``,
``textsnake/``. The backbone is mmdet's ResNet in :mod:`ocr_ds.models.common.resnet`. Every
part is built by name through :data:`ocr_ds.registry.COMPONENTS`.
"""

"""Text detection models and their parts, in plain PyTorch.

Layout: ``detector`` (the backbone-neck-head model DBNet, PSENet and PANet are), ``head_mixin``
(what the segmentation heads share: loss, post-processor, rescaling), ``postprocess``
(``points2boundary`` and DBNet's post-processor), one folder per family (``psenet/``: FPNF,
PSEHead, PSELoss, PSEPostprocessor; ``panet/``: FPEM_FFM, PANHead, PANLoss, PANPostprocessor
and its ``pixel_group``), and DBNet's ``dbnet``, ``necks`` (FPNC), ``heads``
(DBHead), ``losses`` (DBLoss, ``fit_target``). Every part is built by name through
:data:`ocr_ds.registry.COMPONENTS`.
"""

"""Text detection models (DBNet, PSENet) and their parts, in plain PyTorch.

Layout: ``resnet`` (backbone), ``necks`` (FPNC, FPNF), ``heads`` (DBHead, PSEHead),
``losses`` (DBLoss, PSELoss), ``postprocess`` / ``pse_postprocess`` (map -> boundaries),
``detector`` (the shared backbone-neck-head model), ``dbnet`` / ``psenet``.
Every part is built by name through :data:`ocr_ds.registry.COMPONENTS`.
"""

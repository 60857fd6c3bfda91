"""PSENet (Wang et al., "Shape Robust Text Detection with Progressive Scale Expansion Network"),
as MMOCR 0.6.3 builds it: ``psenet`` (the detector), ``fpnf`` (the FPNF neck), ``head``
(PSEHead), ``loss`` (PSELoss), ``postprocessor`` (PSEPostprocessor and the progressive scale
expansion). The backbone is :mod:`ocr_ds.models.common.resnet`.

Nothing is imported here: :data:`ocr_ds.registry.COMPONENTS` names each module.
"""

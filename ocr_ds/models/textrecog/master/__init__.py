"""MASTER (Multi-Aspect Non-local Network for Scene Text Recognition,
https://arxiv.org/abs/1910.02562), as MMOCR 0.6.3 builds it: ``MASTER`` = the recognition
``ResNet`` (:mod:`.resnet`, with ``GCAModule`` blocks and ``Maxpool2d`` / ``ConvModule`` stage
plugins from :mod:`.plugins`) -> no encoder -> ``MasterDecoder`` (:mod:`.decoder`), ``TFLoss``,
``AttnConvertor``. Imported by name through :mod:`ocr_ds.registry`.
"""

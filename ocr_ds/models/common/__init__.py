"""Building blocks shared by every model family (the one place for them).

* :mod:`.base` -- ``BaseModule`` and its containers: mmcv's ``init_cfg`` / ``init_weights``
  protocol, so MMOCR's configs give MMOCR's *effective* initialisation.
* :mod:`.init` -- the initialisers ``init_cfg`` names (Kaiming, Xavier, Normal, Constant,
  Uniform, TruncNormal, Caffe2Xavier, Pretrained) and ``initialize``.
* :mod:`.conv_module` -- ``ConvModule`` (conv -> norm -> activation with mmcv's child names
  ``conv``, ``bn``/``gn``/..., ``activate``) and ``build_conv_layer``.
* :mod:`.norm`, :mod:`.activation` -- layers named by ``norm_cfg`` / ``act_cfg`` dicts.
* :mod:`.resnet` -- mmdet's ResNet (``type='mmdet.ResNet'``), DCN stages included.
* :mod:`.dcn` -- deformable convolution, mmcv's ``'DCNv2'`` and ``'DCN'`` conv layers.
* :mod:`.transformer` -- MMOCR's transformer pieces (``MultiHeadAttention``,
  ``PositionwiseFeedForward``, ``PositionalEncoding``, ``TFEncoderLayer``, ``TFDecoderLayer``).
* :mod:`.mmcv_transformer` -- mmcv's ``BaseTransformerLayer`` with its ``MultiheadAttention``
  and ``FFN`` (MASTER, ABINet).
* :mod:`.roi_ops`, :mod:`.roi_extractor` -- RoIAlign and NMS; mmdet's ``SingleRoIExtractor``
  and ``bbox2roi`` (Mask R-CNN, SDMGR); :mod:`.accuracy` -- mmdet's top-1 ``accuracy``.
* :mod:`.unet` -- MMOCR's ``UNet`` backbone (SDMGR's visual modality).

Names come from the tables in :mod:`ocr_ds.registry` (``CONV_LAYERS``, ``NORM_LAYERS``,
``ACTIVATIONS``, ``PLUGIN_LAYERS``, ``TRANSFORMER_PARTS``, ``UPSAMPLE_LAYERS``), as every other kind does.
"""

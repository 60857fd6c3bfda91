"""The name tables: ``type='CRNNNet'`` in a config -> the class that builds it.

One explicit table per kind, all in this file, instead of import-time registration: what a
config can name is exactly what is listed here. Entries are ``"module:attribute"`` strings,
imported only when a config names them, so asking for a recogniser never imports the
detection code (or its optional libraries).

An unknown name is a :class:`~ocr_ds.errors.UserError` that lists the known ones. Users add
their own classes with mmcv's ``@TABLE.register_module()`` and the config's ``custom_imports``
(:mod:`ocr_ds.extend`); MMOCR's registry names are aliases at the end of this file.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from ocr_ds.errors import UserError, UserErrors, unknown_name
from ocr_ds.extend import NameTable, load_entry, share

MODELS = NameTable("model", {
    # text recognition
    "CRNNNet": "ocr_ds.models.textrecog.crnn.crnn:CRNNNet",
    # text detection
    "DBNet": "ocr_ds.models.textdet.dbnet.model:DBNet",
    "PSENet": "ocr_ds.models.textdet.psenet.psenet:PSENet",
    # -- DBNet++ / R50-DCN (issue 15)
    # -- PANet (issue 15)
    "PANet": "ocr_ds.models.textdet.panet.panet:PANet",
    # -- FCENet, TextSnake (issue 15)
    "FCENet": "ocr_ds.models.textdet.fcenet.fcenet:FCENet",
    "TextSnake": "ocr_ds.models.textdet.textsnake.textsnake:TextSnake",
    # -- DRRG
    "DRRG": "ocr_ds.models.textdet.drrg.drrg:DRRG",
    # -- Mask R-CNN
    "OCRMaskRCNN": "ocr_ds.models.textdet.maskrcnn.ocr_mask_rcnn:OCRMaskRCNN",
    # -- SAR, RobustScanner (issue 16)
    "SARNet": "ocr_ds.models.textrecog.sar.sar:SARNet",
    "RobustScanner": "ocr_ds.models.textrecog.robust_scanner.robust_scanner:RobustScanner",
    "EncodeDecodeRecognizer": "ocr_ds.models.textrecog.recognizer:EncodeDecodeRecognizer",
    # -- NRTR, SATRN (issue 16)
    "NRTR": "ocr_ds.models.textrecog.nrtr.nrtr:NRTR",
    "SATRN": "ocr_ds.models.textrecog.satrn.satrn:SATRN",
    # -- MASTER (issue 16)
    "MASTER": "ocr_ds.models.textrecog.master.master:MASTER",
    # -- ABINet (issue 16)
    "ABINet": "ocr_ds.models.textrecog.abinet.abinet:ABINet",
    # -- SegOCR
    "SegRecognizer": "ocr_ds.models.textrecog.seg.seg_recognizer:SegRecognizer",
    # key information extraction
    "SDMGR": "ocr_ds.models.kie.sdmgr.sdmgr:SDMGR",
    # -- named entity recognition (BERT NER)
    "NerClassifier": "ocr_ds.models.ner.ner_classifier:NerClassifier",
    # tiny model for engine tests and benchmarks
    "ToyRegressor": "ocr_ds.models.toy:ToyRegressor",
})

# Parts named inside a model dict (backbone, neck, head, loss, postprocessor): one table, as
# MMOCR keeps them in one registry. ``mmdet.X`` spellings are those of MMOCR's configs.
COMPONENTS = NameTable("component", {
    # text recognition
    "CTCLoss": "ocr_ds.models.textrecog.losses.ctc:CTCLoss",
    "CTCConvertor": "ocr_ds.models.textrecog.convertors.ctc:CTCConvertor",
    # -- CRNN
    "VeryDeepVgg": "ocr_ds.models.textrecog.crnn.vgg:VeryDeepVgg",
    "CRNNDecoder": "ocr_ds.models.textrecog.crnn.decoder:CRNNDecoder",
    # -- CRNN-TPS (any recogniser's model.preprocessor)
    "BasePreprocessor": "ocr_ds.models.textrecog.preprocessors:BasePreprocessor",
    "TPSPreprocessor": "ocr_ds.models.textrecog.preprocessors:TPSPreprocessor",
    # text detection (MMOCR's own registry has no bare "ResNet" for detection: its detection
    # configs say "mmdet.ResNet"; bare "ResNet" is the recognition one, MASTER's below)
    "mmdet.ResNet": "ocr_ds.models.common.resnet:ResNet",
    # -- PSENet
    "FPNF": "ocr_ds.models.textdet.psenet.fpnf:FPNF",
    "PSEHead": "ocr_ds.models.textdet.psenet.head:PSEHead",
    "PSELoss": "ocr_ds.models.textdet.psenet.loss:PSELoss",
    "PSEPostprocessor": "ocr_ds.models.textdet.psenet.postprocessor:PSEPostprocessor",
    # -- DBNet, DBNet++ / R50-DCN (issue 15)
    "FPNC": "ocr_ds.models.textdet.dbnet.neck:FPNC",
    "DBHead": "ocr_ds.models.textdet.dbnet.head:DBHead",
    "DBLoss": "ocr_ds.models.textdet.dbnet.loss:DBLoss",
    "DiceLoss": "ocr_ds.models.textdet.dbnet.loss:DiceLoss",
    "DBPostprocessor": "ocr_ds.models.textdet.dbnet.postprocess:DBPostprocessor",
    # -- PANet (issue 15)
    "FPEM_FFM": "ocr_ds.models.textdet.panet.fpem_ffm:FPEM_FFM",
    "PANHead": "ocr_ds.models.textdet.panet.head:PANHead",
    "PANLoss": "ocr_ds.models.textdet.panet.loss:PANLoss",
    "PANPostprocessor": "ocr_ds.models.textdet.panet.postprocessor:PANPostprocessor",
    # -- FCENet, TextSnake (issue 15)
    "FPN": "ocr_ds.models.common.fpn:FPN",
    "mmdet.FPN": "ocr_ds.models.common.fpn:FPN",
    "FCEHead": "ocr_ds.models.textdet.fcenet.head:FCEHead",
    "FCELoss": "ocr_ds.models.textdet.fcenet.loss:FCELoss",
    "FCEPostprocessor": "ocr_ds.models.textdet.fcenet.postprocess:FCEPostprocessor",
    "FPN_UNet": "ocr_ds.models.common.fpn_unet:FPN_UNet",
    "TextSnakeHead": "ocr_ds.models.textdet.textsnake.head:TextSnakeHead",
    "TextSnakeLoss": "ocr_ds.models.textdet.textsnake.loss:TextSnakeLoss",
    "TextSnakePostprocessor": "ocr_ds.models.textdet.textsnake.postprocess:TextSnakePostprocessor",
    # -- DRRG
    "DRRGHead": "ocr_ds.models.textdet.drrg.head:DRRGHead",
    "DRRGLoss": "ocr_ds.models.textdet.drrg.loss:DRRGLoss",
    "DRRGPostprocessor": "ocr_ds.models.textdet.drrg.postprocess:DRRGPostprocessor",
    # -- Mask R-CNN (mmdet's two-stage parts, under the names MMOCR's configs give them)
    "RPNHead": "ocr_ds.models.textdet.maskrcnn.rpn_head:RPNHead",
    "StandardRoIHead": "ocr_ds.models.textdet.maskrcnn.roi_head:StandardRoIHead",
    "SingleRoIExtractor": "ocr_ds.models.common.roi_extractor:SingleRoIExtractor",
    "Shared2FCBBoxHead": "ocr_ds.models.textdet.maskrcnn.bbox_head:Shared2FCBBoxHead",
    "FCNMaskHead": "ocr_ds.models.textdet.maskrcnn.mask_head:FCNMaskHead",
    "AnchorGenerator": "ocr_ds.models.textdet.maskrcnn.bbox_ops:AnchorGenerator",
    "DeltaXYWHBBoxCoder": "ocr_ds.models.textdet.maskrcnn.bbox_ops:DeltaXYWHBBoxCoder",
    "CrossEntropyLoss": "ocr_ds.models.textdet.maskrcnn.losses:CrossEntropyLoss",
    "L1Loss": "ocr_ds.models.textdet.maskrcnn.losses:L1Loss",
    "SmoothL1Loss": "ocr_ds.models.textdet.maskrcnn.losses:SmoothL1Loss",
    "RoIAlign": "ocr_ds.models.common.roi_ops:RoIAlign",
    # -- recognition base: encoders/decoders/convertors/losses shared by families (issue 16)
    "ResNet31OCR": "ocr_ds.models.common.resnet31_ocr:ResNet31OCR",
    "BaseEncoder": "ocr_ds.models.textrecog.base:BaseEncoder",
    "AttnConvertor": "ocr_ds.models.textrecog.convertors.attn:AttnConvertor",
    "CELoss": "ocr_ds.models.textrecog.losses.ce:CELoss",
    "SARLoss": "ocr_ds.models.textrecog.losses.ce:SARLoss",
    "TFLoss": "ocr_ds.models.textrecog.losses.ce:TFLoss",
    # -- SAR, RobustScanner (issue 16)
    "SAREncoder": "ocr_ds.models.textrecog.sar.sar:SAREncoder",
    "ParallelSARDecoder": "ocr_ds.models.textrecog.sar.decoders:ParallelSARDecoder",
    "SequentialSARDecoder": "ocr_ds.models.textrecog.sar.decoders:SequentialSARDecoder",
    "ParallelSARDecoderWithBS": "ocr_ds.models.textrecog.sar.beam_search:ParallelSARDecoderWithBS",
    "ChannelReductionEncoder":
        "ocr_ds.models.textrecog.robust_scanner.robust_scanner:ChannelReductionEncoder",
    "RobustScannerDecoder":
        "ocr_ds.models.textrecog.robust_scanner.robust_scanner:RobustScannerDecoder",
    "SequenceAttentionDecoder":
        "ocr_ds.models.textrecog.robust_scanner.attention:SequenceAttentionDecoder",
    "PositionAttentionDecoder":
        "ocr_ds.models.textrecog.robust_scanner.attention:PositionAttentionDecoder",
    # -- NRTR, SATRN (issue 16)
    "NRTRModalityTransform": "ocr_ds.models.textrecog.nrtr.nrtr:NRTRModalityTransform",
    "NRTREncoder": "ocr_ds.models.textrecog.nrtr.nrtr:NRTREncoder",
    "NRTRDecoder": "ocr_ds.models.textrecog.nrtr.decoder:NRTRDecoder",
    "ShallowCNN": "ocr_ds.models.textrecog.satrn.satrn:ShallowCNN",
    "SatrnEncoder": "ocr_ds.models.textrecog.satrn.satrn:SatrnEncoder",
    # -- MASTER (issue 16)
    "ResNet": "ocr_ds.models.textrecog.master.resnet:ResNet",
    "MasterDecoder": "ocr_ds.models.textrecog.master.decoder:MasterDecoder",
    # -- ABINet (issue 16)
    "ResNetABI": "ocr_ds.models.textrecog.abinet.backbone:ResNetABI",
    "ABIVisionModel": "ocr_ds.models.textrecog.abinet.vision:ABIVisionModel",
    "TransformerEncoder": "ocr_ds.models.textrecog.abinet.vision:TransformerEncoder",
    "ABIVisionDecoder": "ocr_ds.models.textrecog.abinet.vision:ABIVisionDecoder",
    "ABILanguageDecoder": "ocr_ds.models.textrecog.abinet.language:ABILanguageDecoder",
    "ABIFuser": "ocr_ds.models.textrecog.abinet.language:ABIFuser",
    "ABILoss": "ocr_ds.models.textrecog.abinet.loss:ABILoss",
    "ABIConvertor": "ocr_ds.models.textrecog.abinet.loss:ABIConvertor",
    # -- SegOCR
    "FPNOCR": "ocr_ds.models.textrecog.seg.neck:FPNOCR",
    "SegHead": "ocr_ds.models.textrecog.seg.head:SegHead",
    "SegLoss": "ocr_ds.models.textrecog.seg.loss:SegLoss",
    "SegConvertor": "ocr_ds.models.textrecog.convertors.seg:SegConvertor",
    # key information extraction
    "UNet": "ocr_ds.models.common.unet:UNet",
    "SDMGRHead": "ocr_ds.models.kie.sdmgr.head:SDMGRHead",
    "SDMGRLoss": "ocr_ds.models.kie.sdmgr.loss:SDMGRLoss",
    "mmdet.SingleRoIExtractor": "ocr_ds.models.common.roi_extractor:SingleRoIExtractor",
    # -- named entity recognition (BERT NER)
    "BertEncoder": "ocr_ds.models.ner.encoder:BertEncoder",
    "FCDecoder": "ocr_ds.models.ner.decoder:FCDecoder",
    "MaskedCrossEntropyLoss": "ocr_ds.models.ner.losses:MaskedCrossEntropyLoss",
    "MaskedFocalLoss": "ocr_ds.models.ner.losses:MaskedFocalLoss",
    "NerConvertor": "ocr_ds.models.ner.convertor:NerConvertor",
})

DATASETS = NameTable("dataset", {
    "OCRDataset": "ocr_ds.datasets.textrecog.ocr_dataset:OCRDataset",
    "IcdarDataset": "ocr_ds.datasets.textdet.icdar_dataset:IcdarDataset",
    "ConcatDataset": "ocr_ds.datasets.concat:ConcatDataset",
    "UniformConcatDataset": "ocr_ds.datasets.concat:UniformConcatDataset",
    "TextDetDataset": "ocr_ds.datasets.textdet.text_det_dataset:TextDetDataset",
    "ToyDataset": "ocr_ds.datasets.toy:ToyDataset",
    # -- SegOCR
    "OCRSegDataset": "ocr_ds.datasets.textrecog.ocr_seg_dataset:OCRSegDataset",
    # key information extraction
    "KIEDataset": "ocr_ds.datasets.kie.kie_dataset:KIEDataset",
    "OpensetKIEDataset": "ocr_ds.datasets.kie.openset_kie_dataset:OpensetKIEDataset",
    # -- named entity recognition (BERT NER)
    "NerDataset": "ocr_ds.datasets.ner.ner_dataset:NerDataset",
})

# ``OCRDataset(loader=dict(type=..., parser=dict(type=...)))``: MMOCR's LOADERS and PARSERS
LOADERS = NameTable("loader", {
    "AnnFileLoader": "ocr_ds.datasets.textrecog.loader:AnnFileLoader",
    "HardDiskLoader": "ocr_ds.datasets.textrecog.loader:HardDiskLoader",
    "LmdbLoader": "ocr_ds.datasets.textrecog.loader:LmdbLoader",
})
PARSERS = NameTable("parser", {
    "LineStrParser": "ocr_ds.datasets.textrecog.parser:LineStrParser",
    "LineJsonParser": "ocr_ds.datasets.textrecog.parser:LineJsonParser",
})

# Pipeline steps (``data.*.pipeline`` entries). Shared steps first, then per task.
PIPELINES = NameTable("pipeline", {
    # shared: loading, normalising, formatting
    "LoadImageFromFile": "ocr_ds.datasets.pipelines.loading:LoadImageFromFile",
    "LoadImageFromLMDB": "ocr_ds.datasets.pipelines.loading:LoadImageFromLMDB",
    "LoadImageFromNdarray": "ocr_ds.datasets.pipelines.loading:LoadImageFromNdarray",
    "Normalize": "ocr_ds.datasets.pipelines.formatting:Normalize",
    "NormalizeOCR": "ocr_ds.datasets.pipelines.formatting:NormalizeOCR",
    "ToTensorOCR": "ocr_ds.datasets.pipelines.formatting:ToTensorOCR",
    "ImageToTensor": "ocr_ds.datasets.pipelines.formatting:ImageToTensor",
    "DefaultFormatBundle": "ocr_ds.datasets.pipelines.formatting:DefaultFormatBundle",
    "Collect": "ocr_ds.datasets.pipelines.formatting:Collect",
    # text recognition
    "ResizeOCR": "ocr_ds.datasets.pipelines.ocr_transforms:ResizeOCR",
    "MultiRotateAugOCR": "ocr_ds.datasets.pipelines.ocr_transforms:MultiRotateAugOCR",
    "OnlineCropOCR": "ocr_ds.datasets.pipelines.crop:OnlineCropOCR",
    # text detection
    "LoadTextAnnotations": "ocr_ds.datasets.pipelines.textdet_loading:LoadTextAnnotations",
    "ColorJitter": "ocr_ds.datasets.pipelines.textdet_color:ColorJitter",
    "AffineJitter": "ocr_ds.datasets.pipelines.textdet_color:AffineJitter",
    "Resize": "ocr_ds.datasets.pipelines.textdet_geometry:Resize",
    "ScaleAspectJitter": "ocr_ds.datasets.pipelines.textdet_geometry:ScaleAspectJitter",
    "RandomScaling": "ocr_ds.datasets.pipelines.textdet_poly_aug:RandomScaling",
    "RandomFlip": "ocr_ds.datasets.pipelines.textdet_geometry:RandomFlip",
    "RandomRotateTextDet": "ocr_ds.datasets.pipelines.textdet_geometry:RandomRotateTextDet",
    "ImgAug": "ocr_ds.datasets.pipelines.textdet_imgaug:ImgAug",
    "Pad": "ocr_ds.datasets.pipelines.textdet_geometry:Pad",
    "EastRandomCrop": "ocr_ds.datasets.pipelines.textdet_crop:EastRandomCrop",
    "RandomCropInstances": "ocr_ds.datasets.pipelines.textdet_crop:RandomCropInstances",
    "DBNetTargets": "ocr_ds.datasets.pipelines.textdet_targets:DBNetTargets",
    "PSENetTargets": "ocr_ds.datasets.pipelines.textdet_targets:PSENetTargets",
    "CustomFormatBundle": "ocr_ds.datasets.pipelines.textdet_formatting:CustomFormatBundle",
    "MultiScaleFlipAug": "ocr_ds.datasets.pipelines.textdet_formatting:MultiScaleFlipAug",
    # -- PANet (issue 15)
    "PANetTargets": "ocr_ds.datasets.pipelines.targets.panet:PANetTargets",
    # -- FCENet, TextSnake, CTW1500 transforms (issue 15)
    "RandomCropFlip": "ocr_ds.datasets.pipelines.textdet_poly_crop:RandomCropFlip",
    "RandomCropPolyInstances":
        "ocr_ds.datasets.pipelines.textdet_poly_crop:RandomCropPolyInstances",
    "RandomRotatePolyInstances":
        "ocr_ds.datasets.pipelines.textdet_poly_aug:RandomRotatePolyInstances",
    "SquareResizePad": "ocr_ds.datasets.pipelines.textdet_poly_aug:SquareResizePad",
    "FCENetTargets": "ocr_ds.datasets.pipelines.targets.fcenet:FCENetTargets",
    "TextSnakeTargets": "ocr_ds.datasets.pipelines.targets.textsnake:TextSnakeTargets",
    # -- DRRG
    "DRRGTargets": "ocr_ds.datasets.pipelines.targets.drrg:DRRGTargets",
    # -- Mask R-CNN
    "LoadAnnotations": "ocr_ds.datasets.pipelines.textdet_loading:LoadAnnotations",
    # -- SAR, RobustScanner (issue 16)
    # -- NRTR, SATRN (issue 16)
    # -- MASTER (issue 16)
    # -- ABINet (issue 16)
    "RandomWrapper": "ocr_ds.datasets.pipelines.wrappers:RandomWrapper",
    "OneOfWrapper": "ocr_ds.datasets.pipelines.wrappers:OneOfWrapper",
    "TorchVisionWrapper": "ocr_ds.datasets.pipelines.wrappers:TorchVisionWrapper",
    "PyramidRescale": "ocr_ds.datasets.pipelines.recog_augment:PyramidRescale",
    "Albu": "ocr_ds.datasets.pipelines.recog_augment:Albu",
    # -- SegOCR
    "OCRSegTargets": "ocr_ds.datasets.pipelines.targets.seg:OCRSegTargets",
    "RandomPaddingOCR": "ocr_ds.datasets.pipelines.recog_charbox:RandomPaddingOCR",
    "RandomRotateImageBox": "ocr_ds.datasets.pipelines.recog_charbox:RandomRotateImageBox",
    "OpencvToPil": "ocr_ds.datasets.pipelines.recog_charbox:OpencvToPil",
    "PilToOpencv": "ocr_ds.datasets.pipelines.recog_charbox:PilToOpencv",
    "FancyPCA": "ocr_ds.datasets.pipelines.recog_augment:FancyPCA",
    # key information extraction
    "ResizeNoImg": "ocr_ds.datasets.pipelines.kie_transforms:ResizeNoImg",
    "KIEFormatBundle": "ocr_ds.datasets.pipelines.kie_transforms:KIEFormatBundle",
    # -- named entity recognition (BERT NER)
    "NerTransform": "ocr_ds.datasets.pipelines.ner_transforms:NerTransform",
    "ToTensorNER": "ocr_ds.datasets.pipelines.ner_transforms:ToTensorNER",
})

# ``custom_hooks=[dict(type=..., priority=...)]``
HOOKS = NameTable("hook", {
    "EmptyCacheHook": "ocr_ds.engine.hooks.misc:EmptyCacheHook",
    "CheckInvalidLossHook": "ocr_ds.engine.hooks.misc:CheckInvalidLossHook",
    "SyncBuffersHook": "ocr_ds.engine.hooks.misc:SyncBuffersHook",
})

# ``log_config.hooks``: writers flushed by the one logging hook
LOGGERS = NameTable("logger", {
    "TextLoggerHook": "ocr_ds.engine.hooks.writers:TextLoggerHook",
    "TensorboardLoggerHook": "ocr_ds.engine.hooks.writers:TensorboardLoggerHook",
    "WandbLoggerHook": "ocr_ds.engine.hooks.wandb_logger:WandbLoggerHook",
})

# Layers named inside components (``conv_cfg``, ``norm_cfg``, ``act_cfg``, ``plugins``), with
# mmcv's names: what ``ocr_ds.models.common`` builds ConvModules and backbones from.
CONV_LAYERS = NameTable("conv layer", {
    "Conv": "torch.nn:Conv2d",
    "Conv1d": "torch.nn:Conv1d",
    "Conv2d": "torch.nn:Conv2d",
    "Conv3d": "torch.nn:Conv3d",
    # -- deformable convolution (issue 15)
    "DCNv2": "ocr_ds.models.common.dcn:ModulatedDeformConv2dPack",
    "DCN": "ocr_ds.models.common.dcn:DeformConv2dPack",
})
NORM_LAYERS = NameTable("norm layer", {
    "BN": "torch.nn:BatchNorm2d",
    "BN1d": "torch.nn:BatchNorm1d",
    "BN2d": "torch.nn:BatchNorm2d",
    "BN3d": "torch.nn:BatchNorm3d",
    "SyncBN": "ocr_ds.models.common.norm:SyncBatchNorm2d",
    "MMSyncBN": "ocr_ds.models.common.norm:SyncBatchNorm2d",
    "GN": "torch.nn:GroupNorm",
    "LN": "torch.nn:LayerNorm",
    "IN": "torch.nn:InstanceNorm2d",
    "IN1d": "torch.nn:InstanceNorm1d",
    "IN2d": "torch.nn:InstanceNorm2d",
    "IN3d": "torch.nn:InstanceNorm3d",
})
ACTIVATIONS = NameTable("activation", {
    "ReLU": "torch.nn:ReLU",
    "LeakyReLU": "torch.nn:LeakyReLU",
    "PReLU": "torch.nn:PReLU",
    "RReLU": "torch.nn:RReLU",
    "ReLU6": "torch.nn:ReLU6",
    "ELU": "torch.nn:ELU",
    "Sigmoid": "torch.nn:Sigmoid",
    "Tanh": "torch.nn:Tanh",
    "SiLU": "torch.nn:SiLU",
    "GELU": "torch.nn:GELU",
    "GeluNew": "ocr_ds.models.ner.bert:GeluNew",   # BERT NER's hidden_act_cfg
    # MMOCR's own activation table falls back to mmcv's, spelled with its scope
    **{f"mmcv.{name}": f"torch.nn:{name}" for name in (
        "ReLU", "LeakyReLU", "PReLU", "RReLU", "ReLU6", "ELU", "Sigmoid", "Tanh", "SiLU",
        "GELU")},
})
# ``upsample_cfg`` of UNet's decoder blocks (MMOCR's UPSAMPLE_LAYERS)
UPSAMPLE_LAYERS = NameTable("upsample layer", {
    "InterpConv": "ocr_ds.models.common.unet:InterpConv",
    "DeconvModule": "ocr_ds.models.common.unet:DeconvModule",
})
# ``attn_cfgs`` / ``ffn_cfgs`` / ``dropout_layer`` of mmcv's BaseTransformerLayer (MASTER, ABINet)
TRANSFORMER_PARTS = NameTable("transformer part", {
    "MultiheadAttention": "ocr_ds.models.common.mmcv_transformer:MultiheadAttention",
    "FFN": "ocr_ds.models.common.mmcv_transformer:FFN",
    "Dropout": "ocr_ds.models.common.mmcv_transformer:Dropout",
    "DropPath": "ocr_ds.models.common.mmcv_transformer:DropPath",
})
# ``plugins=[dict(cfg=dict(type=...), stages=..., position=...)]`` of ResNet-like backbones
PLUGIN_LAYERS = NameTable("plugin layer", {
    "ConvModule": "ocr_ds.models.common.conv_module:ConvModule",
    # -- MASTER's GCAModule (issue 16)
    "GCAModule": "ocr_ds.models.textrecog.master.plugins:GCAModule",
    "Maxpool2d": "ocr_ds.models.textrecog.master.plugins:Maxpool2d",
})

TABLES: dict[str, dict[str, str]] = {
    "model": MODELS,
    "component": COMPONENTS,
    "dataset": DATASETS,
    "loader": LOADERS,
    "parser": PARSERS,
    "pipeline": PIPELINES,
    "hook": HOOKS,
    "logger": LOGGERS,
    "conv layer": CONV_LAYERS,
    "norm layer": NORM_LAYERS,
    "activation": ACTIVATIONS,
    "plugin layer": PLUGIN_LAYERS,
    "upsample layer": UPSAMPLE_LAYERS,
    "transformer part": TRANSFORMER_PARTS,
}


# MMOCR keeps models and their parts in one registry: a class registered through either table
# can be named as both
share(MODELS, COMPONENTS)

# MMOCR's registry names (mmocr.models.builder, mmocr.datasets.builder, mmcv.cnn), so
# ``from mmocr.models.builder import NECKS`` becomes ``from ocr_ds.registry import NECKS``
DETECTORS = RECOGNIZERS = CLASSIFIERS = MODELS
BACKBONES = NECKS = HEADS = LOSSES = ROI_EXTRACTORS = FUSERS = CONVERTORS = ENCODERS = \
    DECODERS = PREPROCESSOR = POSTPROCESSOR = COMPONENTS
ACTIVATION_LAYERS = ACTIVATIONS
TRANSFORMER_LAYERS = ATTENTION = FEEDFORWARD_NETWORK = DROPOUT_LAYERS = TRANSFORMER_PARTS


def resolve(table: Mapping[str, str], name: Any, key: str) -> Any:
    """Return the class named ``name`` in ``table``; ``key`` is the config path for errors."""
    if not isinstance(name, str) or name not in table:
        raise unknown_name(key, name, table)
    return load_entry(table[name])


def build(table: Mapping[str, str], cfg: Mapping[str, Any], key: str, **extra: Any) -> Any:
    """Build ``cfg['type'](**rest, **extra)``; errors name ``key`` (e.g. ``model.backbone``).

    The arguments are first checked against the class's signature (unknown or missing keys,
    values that contradict an annotation: :mod:`ocr_ds.config.arguments`); a ``TypeError`` or
    ``ValueError`` the constructor still raises is the config's too. Errors a component raises
    about its own arguments get the full key path (``backbone.depth`` -> ``model.backbone.depth``).
    """
    from ocr_ds.config.arguments import check_arguments, rewrite_key

    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {cfg!r})")
    args = copy.deepcopy(dict(cfg))
    name = args.pop("type")
    cls = resolve(table, name, f"{key}.type")
    args.update(extra)
    problems = check_arguments(cls, args, key)
    if problems:
        raise UserErrors(problems)
    try:
        return cls(**args)
    except UserErrors as exc:
        raise UserErrors([rewrite_key(m, key, cfg, cls) for m in exc.messages]) from None
    except UserError as exc:
        raise UserError(rewrite_key(str(exc), key, cfg, cls)) from None
    except (TypeError, ValueError) as exc:
        # the values came from the config: one line naming it, not a traceback
        detail = " ".join(str(exc).split())[:300]
        raise UserError(f"{key}: {name}: rejects these arguments ({type(exc).__name__}: "
                        f"{detail})") from None

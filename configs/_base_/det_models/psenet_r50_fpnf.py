# PSENet with a ResNet-50 backbone and the FPNF neck (MMOCR 0.x's model): 7 kernels, the
# smallest at area ratio 0.4 (PSENetTargets), decoded by progressive scale expansion.
# `model_poly` (CTW1500-style curved text) and `model_quad` (ICDAR 2015) as in MMOCR; a config
# picks one by assigning the base variable model_quad (or model_poly) to `model`.
#
# SyncBN: the backbone asks for norm_cfg=dict(type='SyncBN'), as MMOCR does. ocr_ds builds
# torch's SyncBatchNorm for it (DeepSpeed has no conversion of its own): statistics are
# synchronised across GPU ranks; CPU ranks normalise per rank (torch has no CPU SyncBN). With
# norm_eval=True (as here) the backbone's BN layers keep their pretrained statistics anyway.
model_poly = dict(
    type='PSENet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
        norm_eval=True,
        style='caffe'),
    neck=dict(
        type='FPNF',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        fusion_type='concat'),
    bbox_head=dict(
        type='PSEHead',
        in_channels=[256],
        out_channels=7,
        loss=dict(type='PSELoss'),
        postprocessor=dict(type='PSEPostprocessor', text_repr_type='poly')),
    train_cfg=None,
    test_cfg=None)

model_quad = dict(
    type='PSENet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50'),
        norm_eval=True,
        style='caffe'),
    neck=dict(
        type='FPNF',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        fusion_type='concat'),
    bbox_head=dict(
        type='PSEHead',
        in_channels=[256],
        out_channels=7,
        loss=dict(type='PSELoss'),
        postprocessor=dict(type='PSEPostprocessor', text_repr_type='quad')),
    train_cfg=None,
    test_cfg=None)

# DBNet with a ResNet-50 backbone and the FPNC neck: MMOCR 0.x's dbnet_r50dcnv2_fpnc without the
# deformable convolutions (DCNv2 in stages 2-4), which ocr_ds does not implement. Everything
# else is as MMOCR has it. ImageNet weights come from torch's local hub cache
# ($TORCH_HOME/hub/checkpoints/resnet50-*.pth; never downloaded), or set
# model.backbone.init_cfg=None.
model = dict(
    type='DBNet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='FPNC', in_channels=[256, 512, 1024, 2048], lateral_channels=256),
    bbox_head=dict(
        type='DBHead',
        in_channels=256,
        loss=dict(type='DBLoss', alpha=5.0, beta=10.0, bbce_loss=True),
        postprocessor=dict(type='DBPostprocessor', text_repr_type='quad')),
    train_cfg=None,
    test_cfg=None)

# DBNet with a ResNet-18 backbone and the FPNC neck (MMOCR 0.x's model).
# The backbone starts from torchvision's ImageNet weights: torch hub's cache
# ($TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth, the file mmcv loads), downloaded there
# when missing. Offline without that file, set model.backbone.init_cfg=None (or a local path).
model = dict(
    type='DBNet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=18,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'),
        norm_eval=False,
        style='caffe'),
    neck=dict(
        type='FPNC', in_channels=[64, 128, 256, 512], lateral_channels=256),
    bbox_head=dict(
        type='DBHead',
        in_channels=256,
        loss=dict(type='DBLoss', alpha=5.0, beta=10.0, bbce_loss=True),
        postprocessor=dict(type='DBPostprocessor', text_repr_type='quad')),
    train_cfg=None,
    test_cfg=None)

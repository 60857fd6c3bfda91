# PANet R18-FPEM-FFM on generated scenes, sized for a CPU.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textdet/panet/panet_r18_synth_cpu.py
#
# Uses the same scenes as the DBNet demo (see configs/textdet/dbnet/dbnet_r18_synth_cpu.py),
# made on the first run from `synth_data` below, or by hand with
#
#   python -m ocr_ds.tools.gen_det_data data/synth_det --num-train 1200 --num-test 200 \
#       --seed 0 --size 256
#
# Same model as configs/_base_/det_models/panet_r18_fpem_ffm.py (model_quad), narrowed for a
# CPU and trained from scratch: ResNet-18 widths 64..512 -> 32..256, plain BN updated in
# training (no SyncBN, norm_eval=False: without ImageNet weights the frozen statistics would
# be meaningless), FPEM_FFM 128 -> 64 channels; Adam 1e-3 with poly decay as MMOCR's PANet
# schedule, over 6 epochs instead of 600. The training pipeline is MMOCR's ICDAR 2015 one with
# the scales and the crop sized to the 256-pixel scenes; PANetTargets' kernels at ratio 0.5.
# Measured on the shared 2-core development machine under heavy load from other jobs (load
# average 19-26, about 10 s a step; 2026-11-29): hmean-iou 0.889 on the 200 held-out scenes
# after epoch 1 (75 steps of 2 x 8 images) at 14.3 min after launch, 0.978 after epoch 2 at
# 27.2 min (data generation included). Not yet timed on an idle machine.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_600e.py',
    '../../_base_/det_models/panet_r18_fpem_ffm.py',
]

data_root = 'data/synth_det'
synth_data = dict(
    tool='gen_det_data', out_dir=data_root, num_train=1200, num_test=200,
    seed=0, size=256)

model = dict(
    type='PANet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=18,
        base_channels=32,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None,
        norm_eval=False,
        style='caffe'),
    neck=dict(type='FPEM_FFM', in_channels=[32, 64, 128, 256], conv_out=64),
    bbox_head=dict(
        type='PANHead',
        in_channels=[64, 64, 64, 64],
        out_channels=6,
        loss=dict(type='PANLoss'),
        postprocessor=dict(type='PANPostprocessor', text_repr_type='quad')),
    train_cfg=None,
    test_cfg=None)

img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='LoadTextAnnotations',
        with_bbox=True,
        with_mask=True,
        poly2mask=False),
    dict(type='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(
        type='ScaleAspectJitter',
        img_scale=[(3000, 256)],
        ratio_range=(0.7, 1.3),
        aspect_ratio_range=(0.9, 1.1),
        multiscale_mode='value',
        keep_ratio=False),
    dict(type='PANetTargets', shrink_ratio=(1.0, 0.5)),
    dict(type='RandomFlip', flip_ratio=0.5, direction='horizontal'),
    dict(type='RandomRotateTextDet'),
    dict(
        type='RandomCropInstances',
        target_size=(256, 256),
        instance_key='gt_kernels'),
    dict(type='Pad', size_divisor=32),
    dict(
        type='CustomFormatBundle',
        keys=['gt_kernels', 'gt_mask'],
        visualize=dict(flag=False, boundary_key='gt_kernels')),
    dict(type='Collect', keys=['img', 'gt_kernels', 'gt_mask'])
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='MultiScaleFlipAug',
        img_scale=(256, 256),
        flip=False,
        transforms=[
            dict(type='Resize', keep_ratio=True),
            dict(type='Normalize', **img_norm_cfg),
            dict(type='Pad', size_divisor=32),
            dict(type='ImageToTensor', keys=['img']),
            dict(type='Collect', keys=['img']),
        ])
]

dataset_type = 'IcdarDataset'
train = dict(
    type=dataset_type,
    ann_file=f'{data_root}/instances_training.json',
    img_prefix=f'{data_root}/imgs',
    pipeline=train_pipeline)
test = dict(
    type=dataset_type,
    ann_file=f'{data_root}/instances_test.json',
    img_prefix=f'{data_root}/imgs',
    pipeline=test_pipeline)

data = dict(
    samples_per_gpu=8,
    workers_per_gpu=1,
    persistent_workers=True,
    val_dataloader=dict(samples_per_gpu=8),
    test_dataloader=dict(samples_per_gpu=8),
    train=train,
    val=test,
    test=test)

runner = dict(type='EpochBasedRunner', max_epochs=6)
checkpoint_config = dict(interval=3, max_keep_ckpts=1)
evaluation = dict(interval=1, metric='hmean-iou', save_best='hmean-iou:hmean')
log_config = dict(interval=25, hooks=[dict(type='TextLoggerHook')])

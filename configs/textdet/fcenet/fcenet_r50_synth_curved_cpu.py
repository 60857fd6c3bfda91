# FCENet on generated curved-text scenes (CTW1500-style 14-point polygons), sized for a CPU.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textdet/fcenet/fcenet_r50_synth_curved_cpu.py
#
# The scenes are generated on the first run (or by hand):
#
#   python -m ocr_ds.tools.gen_det_data data/synth_curved --num-train 1200 --num-test 200 \
#       --seed 0 --size 256 --curved
#
# Same model as configs/_base_/det_models/fcenet_r50_fpn.py, narrowed for a CPU and trained
# from scratch: ResNet-50 widths 64..512 -> 16..128 (bottleneck outputs 64..512), FPN
# 256 -> 64 channels; Adam 1e-3 with poly decay instead of SGD 1e-3. The training pipeline is
# MMOCR's CTW1500 one (fcenet_pipeline.py) with the scales sized to 256-pixel scenes.
# A one-thread plain-PyTorch probe of this setting (batch 8, on a machine at load ~18, so
# about 6 s a step) reached hmean 0.40 on 80 held-out scenes after 100 steps and 0.27 after
# 200 (with the test scale 256 and MMOCR's level ranges: 0.21, 0.31, 0.07 at 100/200/300):
# it learns, noisily. On 2 idle CPU ranks: hmean-iou 0.857 after 6 epochs (7.5 min), 0.952
# after 9, 0.939 at the end (13.5 min; the README's "Measured results" has the curve).
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_600e.py',
]

data_root = 'data/synth_curved'
synth_data = dict(
    tool='gen_det_data', out_dir=data_root, num_train=1200, num_test=200,
    seed=0, size=256, curved=True)

model = dict(
    type='FCENet',
    backbone=dict(
        type='mmdet.ResNet',
        depth=50,
        base_channels=16,
        num_stages=4,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None,
        norm_eval=False,
        style='pytorch'),
    neck=dict(
        type='mmdet.FPN',
        in_channels=[128, 256, 512],
        out_channels=64,
        add_extra_convs='on_output',
        num_outs=3,
        relu_before_extra_convs=True,
        act_cfg=None),
    bbox_head=dict(
        type='FCEHead',
        in_channels=64,
        scales=(8, 16, 32),
        fourier_degree=5,
        loss=dict(type='FCELoss', num_sample=50),
        postprocessor=dict(
            type='FCEPostprocessor',
            text_repr_type='poly',
            num_reconstr_points=50,
            alpha=1.0,
            beta=2.0,
            score_thr=0.3)))

img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
# MMOCR's CTW1500 ranges are ((0, 0.25), (0.2, 0.65), (0.55, 1.0)) of the image height for
# the text's longer side; at 256 pixels a long line on P5 (stride 32) would be thinner than
# one cell, so lines go one level finer here
leval_prop_range = ((0, 0.5), (0.4, 0.8), (0.7, 1.0))
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='LoadTextAnnotations',
        with_bbox=True,
        with_mask=True,
        poly2mask=False),
    dict(
        type='ColorJitter',
        brightness=32.0 / 255,
        saturation=0.5,
        contrast=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='RandomScaling', size=256, scale=(3. / 4, 5. / 2)),
    dict(
        type='RandomCropFlip', crop_ratio=0.5, iter_num=1, min_area_ratio=0.2),
    dict(
        type='RandomCropPolyInstances',
        instance_key='gt_masks',
        crop_ratio=0.8,
        min_side_ratio=0.3),
    dict(
        type='RandomRotatePolyInstances',
        rotate_ratio=0.5,
        max_angle=30,
        pad_with_fixed_color=False),
    dict(type='SquareResizePad', target_size=256, pad_ratio=0.6),
    dict(type='RandomFlip', flip_ratio=0.5, direction='horizontal'),
    dict(type='Pad', size_divisor=32),
    dict(
        type='FCENetTargets',
        fourier_degree=5,
        level_proportion_range=leval_prop_range),
    dict(
        type='CustomFormatBundle',
        keys=['p3_maps', 'p4_maps', 'p5_maps'],
        visualize=dict(flag=False, boundary_key=None)),
    dict(type='Collect', keys=['img', 'p3_maps', 'p4_maps', 'p5_maps'])
]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(
        type='MultiScaleFlipAug',
        # tested at 1.5x, about the scale of the text in the training crops
        img_scale=(384, 384),
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

runner = dict(type='EpochBasedRunner', max_epochs=12)
checkpoint_config = dict(interval=4, max_keep_ckpts=1)
evaluation = dict(interval=1, metric='hmean-iou', save_best='hmean-iou:hmean')
log_config = dict(interval=25, hooks=[dict(type='TextLoggerHook')])

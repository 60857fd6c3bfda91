# DBNet++ (R50-DCNv2 + FPNC with adaptive scale fusion) on generated scenes: the CPU demo.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textdet/dbnetpp/dbnetpp_r50dcnv2_synth_cpu.py
#
# The data (1200 training + 200 test scenes of 256x256, made by
#   python -m ocr_ds.tools.gen_det_data data/synth_det --num-train 1200 --num-test 200 \
#       --seed 0 --size 256
# which the engine runs from `synth_data` below when data/synth_det is missing) is the DBNet R18
# demo's. The model is MMOCR's configs/_base_/det_models/dbnetpp_r50dcnv2_fpnc.py, narrowed
# for a CPU and trained from scratch:
#   - ResNet-50 widths 64..512 -> 16..128 (outputs 64..512 channels), no ImageNet weights;
#   - modulated deformable convolution (DCNv2) in stages 3 and 4 only (MMOCR: 2, 3 and 4): on
#     a CPU the pure-PyTorch DCNv2 costs about ten plain 3x3 convs, and stage 2 runs at 4x the
#     resolution of stage 3;
#   - FPNC lateral 256 -> 64 and 64 -> 16 channels per level (the head sees 64), with DBNet++'s
#     adaptive scale fusion (asf_cfg) as MMOCR has it;
#   - Adam 1e-3 with poly decay over 8 epochs instead of SGD for 1200 epochs.
# The training pipeline is MMOCR's, with the crop sized to the scenes.
# On 2 idle CPU ranks: hmean-iou 0.951 after 2 epochs (3.5 min), 0.986 at the end (13.6 min);
# the README's "Measured results" has the curve.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_600e.py',
    '../../_base_/det_models/dbnetpp_r50dcnv2_fpnc.py',
]

data_root = 'data/synth_det'
synth_data = dict(
    tool='gen_det_data', out_dir=data_root, num_train=1200, num_test=200,
    seed=0, size=256)

model = dict(
    backbone=dict(
        base_channels=16,
        stage_with_dcn=(False, False, True, True),
        init_cfg=None),
    neck=dict(
        in_channels=[64, 128, 256, 512], lateral_channels=64, out_channels=16),
    bbox_head=dict(in_channels=64))

img_norm_cfg = dict(
    mean=[122.67891434, 116.66876762, 104.00698793],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='LoadTextAnnotations',
        with_bbox=True,
        with_mask=True,
        poly2mask=False),
    dict(type='ColorJitter', brightness=32.0 / 255, saturation=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(
        type='ImgAug',
        args=[['Fliplr', 0.5],
              dict(cls='Affine', rotate=[-10, 10]), ['Resize', [0.5, 3.0]]]),
    dict(type='EastRandomCrop', target_size=(256, 256)),
    dict(type='DBNetTargets', shrink_ratio=0.4),
    dict(type='Pad', size_divisor=32),
    dict(
        type='CustomFormatBundle',
        keys=['gt_shrink', 'gt_shrink_mask', 'gt_thr', 'gt_thr_mask'],
        visualize=dict(flag=False, boundary_key='gt_shrink')),
    dict(
        type='Collect',
        keys=['img', 'gt_shrink', 'gt_shrink_mask', 'gt_thr', 'gt_thr_mask'])
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
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
    # one loader worker per rank, kept between epochs, as the DBNet R18 demo
    workers_per_gpu=1,
    persistent_workers=True,
    val_dataloader=dict(samples_per_gpu=8),
    test_dataloader=dict(samples_per_gpu=8),
    train=train,
    val=test,
    test=test)

runner = dict(type='EpochBasedRunner', max_epochs=8)
checkpoint_config = dict(interval=4, max_keep_ckpts=1)
evaluation = dict(interval=1, metric='hmean-iou', save_best='hmean-iou:hmean')
log_config = dict(interval=25, hooks=[dict(type='TextLoggerHook')])

# DBNet R18-FPNC on generated scenes: the CPU demo.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textdet/dbnet/dbnet_r18_synth_cpu.py
#
# Two CPU ranks of one thread each (OMP_NUM_THREADS=1) pass hmean-iou 0.9 on the 200 held-out
# scenes after about 225 optimizer steps (epoch 3 of 6, 75 steps of 2 x 8 images each) and end
# near 0.99. Measured on the idle 2-core development machine (2026-11-27): epoch 3 hmean 0.947
# at 2.0 min after launch, epoch 4 0.980 at 2.6 min, epoch 6 0.993 at 3.9 min (0.43 s a step);
# with other jobs loading it (load average 5-8) the same schedule took 11 min. The data (1200 training + 200 test
# scenes of 256x256, both annotation forms) is made by
#
#   python -m ocr_ds.tools.gen_det_data data/synth_det --num-train 1200 --num-test 200 \
#       --seed 0 --size 256
#
# (the engine runs it from `synth_data` below when data/synth_det is missing or was made with
# other arguments). Same model as configs/_base_/det_models/dbnet_r18_fpnc.py, narrowed for a
# CPU and trained from scratch: ResNet-18 widths 64..512 -> 32..256, FPNC lateral 256 -> 64
# and 64 -> 16 channels per level (the head sees 64); Adam 1e-3 with poly decay instead of SGD
# for 1200 epochs. The training pipeline is MMOCR's, with the crop sized to the scenes.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_adam_600e.py',
    '../../_base_/det_models/dbnet_r18_fpnc.py',
]

data_root = 'data/synth_det'
synth_data = dict(
    tool='gen_det_data', out_dir=data_root, num_train=1200, num_test=200,
    seed=0, size=256)

model = dict(
    backbone=dict(base_channels=32, init_cfg=None),
    neck=dict(
        in_channels=[32, 64, 128, 256], lateral_channels=64, out_channels=16),
    bbox_head=dict(in_channels=64))

img_norm_cfg = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
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
    # One data-loader worker per rank, kept between epochs: the scenes are augmented and their
    # DBNet targets drawn while the rank computes. In the main process that wait was 11% of
    # the iteration; with the worker 1.5% (benchmarks/data_throughput.py, 2 ranks on 2 busy
    # cores). Two workers per rank measured the same.
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

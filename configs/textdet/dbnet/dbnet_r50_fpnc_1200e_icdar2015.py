# DBNet R50-FPNC on ICDAR 2015: MMOCR 0.x's dbnet_r50dcnv2_fpnc_1200e_icdar2015 without DCN
# (ocr_ds has no deformable convolution). MMOCR fine-tunes its R50-DCN model from a SynthText
# pre-training (hmean 0.840, REFERENCE §7); point `load_from` at such weights (a .pth or one of
# our checkpoint directories) to do the same. Without it, training starts from ImageNet.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_sgd_1200e.py',
    '../../_base_/det_models/dbnet_r50_fpnc.py',
    '../../_base_/det_datasets/icdar2015.py',
    '../../_base_/det_pipelines/dbnet_pipeline.py'
]

train_list = {{_base_.train_list}}
test_list = {{_base_.test_list}}

train_pipeline_r50dcnv2 = {{_base_.train_pipeline_r50dcnv2}}
test_pipeline_4068_1024 = {{_base_.test_pipeline_4068_1024}}

load_from = None

data = dict(
    samples_per_gpu=8,
    workers_per_gpu=4,
    val_dataloader=dict(samples_per_gpu=1),
    test_dataloader=dict(samples_per_gpu=1),
    train=dict(
        type='UniformConcatDataset',
        datasets=train_list,
        pipeline=train_pipeline_r50dcnv2),
    val=dict(
        type='UniformConcatDataset',
        datasets=test_list,
        pipeline=test_pipeline_4068_1024),
    test=dict(
        type='UniformConcatDataset',
        datasets=test_list,
        pipeline=test_pipeline_4068_1024))

checkpoint_config = dict(interval=100)
evaluation = dict(interval=100, metric='hmean-iou')

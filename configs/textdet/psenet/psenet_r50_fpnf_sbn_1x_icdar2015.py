# PSENet R50-FPNF with SyncBN, mmdet's 1x schedule, on ICDAR 2015: the config of MMOCR's SLURM
# example (`tools/slurm_train.sh dev psenet-ic15 configs/textdet/psenet/
# psenet_r50_fpnf_sbn_1x_icdar2015.py /nfs/xxxx/psenet-ic15`).
#
# SyncBN ("sbn"): norm_cfg=dict(type='SyncBN') builds torch's SyncBatchNorm in the backbone
# (DeepSpeed converts nothing itself): on GPU ranks the batch statistics are synchronised across
# all ranks; on CPU ranks each rank normalises on its own (torch has no CPU SyncBN), i.e. plain
# BN. Its weights load into, and from, a plain-BN model unchanged. With norm_eval=True (MMOCR's
# setting, kept) the backbone's BN layers use their pretrained statistics during training, so
# the synchronisation only matters if you set model.backbone.norm_eval=False.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/schedule_1x.py',
    '../../_base_/det_models/psenet_r50_fpnf.py',
    '../../_base_/det_datasets/icdar2015.py',
    '../../_base_/det_pipelines/psenet_pipeline.py'
]

model = {{_base_.model_quad}}

train_list = {{_base_.train_list}}
test_list = {{_base_.test_list}}

train_pipeline = {{_base_.train_pipeline}}
test_pipeline_icdar2015 = {{_base_.test_pipeline_icdar2015}}

data = dict(
    samples_per_gpu=2,
    workers_per_gpu=2,
    val_dataloader=dict(samples_per_gpu=1),
    test_dataloader=dict(samples_per_gpu=1),
    train=dict(
        type='UniformConcatDataset',
        datasets=train_list,
        pipeline=train_pipeline),
    val=dict(
        type='UniformConcatDataset',
        datasets=test_list,
        pipeline=test_pipeline_icdar2015),
    test=dict(
        type='UniformConcatDataset',
        datasets=test_list,
        pipeline=test_pipeline_icdar2015))

evaluation = dict(interval=1, metric='hmean-iou')

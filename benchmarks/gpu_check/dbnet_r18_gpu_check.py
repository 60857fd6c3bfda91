# DBNet-R18 for benchmarks/gpu_check.sh: MMOCR 0.x's model (ResNet-18 + FPNC, from scratch: the
# GPU machine has no ImageNet weights) and training pipeline (640x640 crops, batch 16) on
# generated scenes, a fixed number of iterations, no evaluation. The precision and ZeRO stage
# come from --cfg-options (fp16.loss_scale=..., bf16.enabled=True,
# deepspeed.zero_optimization.stage=N).
_base_ = [
    '../../configs/_base_/default_runtime.py',
    '../../configs/_base_/det_models/dbnet_r18_fpnc.py',
    '../../configs/_base_/det_pipelines/dbnet_pipeline.py',
]

data_root = 'data/gpu_check_det'
synth_data = dict(
    tool='gen_det_data', out_dir=data_root, num_train=240, num_test=8,
    seed=0, size=640)

model = dict(backbone=dict(init_cfg=None))
train_pipeline_r18 = {{_base_.train_pipeline_r18}}
data = dict(
    samples_per_gpu=16,
    workers_per_gpu=8,
    train=dict(
        type='IcdarDataset',
        ann_file=f'{data_root}/instances_training.json',
        img_prefix=f'{data_root}/imgs',
        pipeline=train_pipeline_r18))

optimizer = dict(type='Adam', lr=1e-3)
optimizer_config = dict(grad_clip=None)
lr_config = dict(policy='fixed')
runner = dict(type='IterBasedRunner', max_iters=60)
checkpoint_config = dict(interval=60)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])

# CRNN for benchmarks/gpu_check.sh: MMOCR 0.x's model and training pipeline (VGG + BiLSTM + CTC,
# grey 32x100, 8.3 M parameters) on generated words, a fixed number of iterations, no evaluation.
# The precision and ZeRO stage come from --cfg-options (fp16.loss_scale=..., bf16.enabled=True,
# deepspeed.zero_optimization.stage=N).
_base_ = [
    '../../configs/_base_/default_runtime.py',
    '../../configs/_base_/recog_models/crnn.py',
    '../../configs/_base_/recog_pipelines/crnn_pipeline.py',
]

data_root = 'data/gpu_check_recog'
synth_data = dict(
    tool='gen_recog_data', out_dir=data_root, num_train=20000, num_test=200,
    seed=0, charset='DICT36')

train_pipeline = {{_base_.train_pipeline}}
train = dict(
    type='OCRDataset',
    img_prefix=f'{data_root}/train',
    ann_file=f'{data_root}/train_label.txt',
    loader=dict(
        type='AnnFileLoader', repeat=1, file_format='txt',
        parser=dict(type='LineStrParser', keys=['filename', 'text'],
                    keys_idx=[0, 1], separator=' ')),
    pipeline=train_pipeline,
    test_mode=False)
data = dict(samples_per_gpu=64, workers_per_gpu=4, train=train)

optimizer = dict(type='Adam', lr=1e-3)
optimizer_config = dict(grad_clip=dict(max_norm=5.0))
lr_config = dict(policy='fixed')
runner = dict(type='IterBasedRunner', max_iters=120)
checkpoint_config = dict(interval=120)
log_config = dict(interval=10, hooks=[dict(type='TextLoggerHook')])

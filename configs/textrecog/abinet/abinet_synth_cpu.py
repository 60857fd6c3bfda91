# ABINet on generated word crops: the CPU demo of ABINet.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/abinet/abinet_synth_cpu.py
#
# On 2 idle CPU ranks (2026-11-30, 0.47-0.55 s a step, this file): word_acc 0.481 at 6.1 min,
# 0.716 at 9.4, 0.877 at 12.6, 0.910 at 15.6 and 0.925 at the end (18.4 min): the target,
# word_acc >= 0.90 on the 2,000 held-out words within 20 minutes on 2 CPU ranks, is met.
# With Adam 2e-3: 0.785 at 16.2 min; with 1e-3 and no speed settings: 0.445 at 19.2.
#
# The data is the CRNN demo's (configs/textrecog/crnn/crnn_synth_cpu.py), rendered by
#
#   python -m ocr_ds.tools.gen_recog_data data/synth_recog \
#       --num-train 50000 --num-test 2000 --seed 0
#
# which the engine runs from ``synth_data`` in configs/_base_/recog_datasets/synth_recog_cpu.py
# (the datasets this config inherits) when data/synth_recog is missing or was made with other
# arguments.
#
# The model is configs/_base_/recog_models/abinet.py (ResNetABI + ABIVisionModel +
# ABILanguageDecoder + ABIFuser, 3 rounds of iterative correction, ABILoss, ABIConvertor)
# narrowed to fit a CPU budget; the module tree, and so the checkpoint's names, are MMOCR's:
# * ResNetABI: stem 32 -> 16 channels, four stages of 8..64 channels and one block each
#   instead of five of 32..512 with 3/4/6/6/3 blocks (strides 2/1/2/1: 32x128 crops still give
#   the 8x32 map of the full model);
# * vision transformer: 2 layers of d_model 64, 4 heads, feed-forward 128 (MMOCR: 3 layers,
#   512, 8 heads, 2048); position attention with 16 channels instead of 64;
# * language model: 2 layers of d_model 64, 4 heads, feed-forward 128 (MMOCR: 4 layers, 512,
#   8, 2048), trained from scratch with the rest, as abinet_academic.py does too; the fuser 64
#   wide;
# * max_seq_len 12 (10 characters + end) instead of 26, so num_chars stays 37 (DICT36 + end);
# * no dropout (MMOCR: 0.1): 50,000 fresh words do not overfit in a few epochs, and dropout
#   slows the first steps;
# * the training pipeline is the test pipeline's resize + normalisation: without MMOCR's
#   rotations, affine/perspective warps, pyramid rescale, noise, blur and colour jitter (the
#   generated crops carry their own variation; the augmentation is what 20 epochs of 14 M
#   real-looking crops need, not 20 minutes of clean ones). Test: one view (MMOCR reads tall
#   crops at 0/90/270 degrees; generated crops are never tall);
# * Adam 3e-3 (MMOCR: 1e-4) with warm-up and a cosine decay per iteration instead of steps at
#   epochs 16 and 18; gradient clipping at 5 (word_acc at the end of epoch 1: 0.481 with 3e-3,
#   0.170 with 2e-3);
# * an evaluation every half epoch (391 iterations of 2 x 32 words), as the SAR demo's;
# * ocr_ds's speed settings channels_last and fused_optimizer (README "Speed settings").
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/recog_models/abinet.py',
    '../../_base_/recog_datasets/synth_recog_cpu.py'
]

max_seq_len = 12
d_model = 64
label_convertor = dict(max_seq_len=max_seq_len)
model = dict(
    backbone=dict(
        stem_channels=16,
        base_channels=8,
        arch_settings=[1, 1, 1, 1],
        strides=[2, 1, 2, 1]),
    encoder=dict(
        encoder=dict(
            n_layers=2, n_head=4, d_model=d_model, d_inner=2 * d_model,
            dropout=0.0),
        decoder=dict(
            in_channels=d_model, num_channels=16, max_seq_len=max_seq_len)),
    decoder=dict(
        d_model=d_model,
        n_head=4,
        d_inner=2 * d_model,
        n_layers=2,
        dropout=0.0,
        max_seq_len=max_seq_len),
    fuser=dict(d_model=d_model, max_seq_len=max_seq_len),
    label_convertor=label_convertor,
    max_seq_len=max_seq_len)

img_norm_cfg = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
resize = dict(
    type='ResizeOCR',
    height=32,
    min_width=128,
    max_width=128,
    keep_aspect_ratio=False,
    width_downsample_ratio=0.25)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    resize,
    dict(type='ToTensorOCR'),
    dict(type='NormalizeOCR', **img_norm_cfg),
    dict(
        type='Collect',
        keys=['img'],
        meta_keys=[
            'filename', 'ori_shape', 'img_shape', 'text', 'valid_ratio',
            'resize_shape'
        ]),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    resize,
    dict(type='ToTensorOCR'),
    dict(type='NormalizeOCR', **img_norm_cfg),
    dict(
        type='Collect',
        keys=['img'],
        meta_keys=[
            'filename', 'ori_shape', 'img_shape', 'valid_ratio', 'resize_shape'
        ]),
]
train = {{_base_.train}}
test = {{_base_.test}}

data = dict(
    samples_per_gpu=32,
    workers_per_gpu=1,
    persistent_workers=True,
    val_dataloader=dict(samples_per_gpu=128),
    test_dataloader=dict(samples_per_gpu=128),
    train=dict(
        type='UniformConcatDataset', datasets=[train], pipeline=train_pipeline),
    val=dict(
        type='UniformConcatDataset', datasets=[test], pipeline=test_pipeline),
    test=dict(
        type='UniformConcatDataset', datasets=[test], pipeline=test_pipeline))

optimizer = dict(type='Adam', lr=3e-3)
optimizer_config = dict(grad_clip=dict(max_norm=5.0))
lr_config = dict(
    policy='CosineAnnealing',
    min_lr=1e-5,
    by_epoch=False,
    warmup='linear',
    warmup_iters=200,
    warmup_ratio=0.1)
runner = dict(type='EpochBasedRunner', max_epochs=3)
checkpoint_config = dict(interval=1, max_keep_ckpts=2)
evaluation = dict(
    interval=391, by_epoch=False, metric='acc', save_best='0_word_acc')
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])
channels_last = True
fused_optimizer = True

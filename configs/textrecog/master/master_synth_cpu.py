# MASTER on generated word crops: the CPU demo of MMOCR's MASTER.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/master/master_synth_cpu.py
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
# The model is configs/_base_/recog_models/master.py (the recognition ResNet with GCAModule
# blocks and its Maxpool2d / ConvModule stage plugins, MasterDecoder, TFLoss, AttnConvertor)
# narrowed to fit a CPU budget:
# * stem 64/128 -> 16/32 channels, stages 256/256/512/512 -> 32/32/64/64 wide with one block
#   each instead of 1/2/5/3 (GCA's ratio 1/16 and single head kept);
# * decoder d_model 512 -> 64, 4 heads instead of 8, FFN 2048 -> 128, 2 layers instead of 3,
#   no dropout on the map's position encoding (MMOCR: 0.2);
# * 32-pixel-high crops, 32-128 wide (MMOCR: 48 high, 48-160 wide), aspect ratio kept: the
#   map is 4 x 32, so feat_size = 128 (MMOCR: 6 x 40 = 240);
# * DICT36, lower-case (the generated words are), max_seq_len 12 (10 characters + start/end);
#   no test-time rotation (the generated crops are never tall);
# * the token embedding initialised N(0, 1/8^2) (``decoder.init_cfg``; MMOCR: torch's N(0, 1)):
#   MasterDecoder scales it by sqrt(d_model) = 8, so the tokens enter the pre-norm layers at
#   unit scale instead of 8 times the size of what the attention adds to them. With these
#   settings and torch's N(0, 1) the decoder left the early plateau (loss ~3.28: the
#   characters' frequencies, word_acc 0) after ~900 steps of 2 x 32 words but read 0.512 of
#   the words at 18.9 min; with this init it left it after 600-1,000 and read 0.90 at 12-13.5
#   min (two runs);
# * Adam 2e-3 (MMOCR: 4e-4 at batch 512; at 3e-3, 3 of 4 runs stayed on the plateau) with
#   warm-up and a cosine decay per iteration instead of a step at epoch 11, gradient clipping
#   at 5, 4 epochs;
# * an evaluation every half epoch (391 iterations of 2 x 32 words), as the other demos';
# * ocr_ds's speed settings channels_last and fused_optimizer (README "Speed settings": the
#   same maths, last-bit differences).
# On 2 idle CPU ranks (0.37 s a step): word_acc 0.549 at 6.9 min, 0.884 at 9.3, 0.930 at
# 12.0, 0.974 at the end (20.1 min).
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/recog_models/master.py',
    '../../_base_/recog_datasets/synth_recog_cpu.py'
]

max_seq_len = 12
label_convertor = dict(
    type='AttnConvertor',
    dict_type='DICT36',
    with_unknown=False,
    lower=True,
    max_seq_len=max_seq_len)

# MMOCR's MASTER (GCA blocks, stage plugins, Kaiming init) with the widths above
model = dict(
    backbone=dict(
        stem_channels=[16, 32],
        arch_layers=[1, 1, 1, 1],
        arch_channels=[32, 32, 64, 64]),
    decoder=dict(
        d_model=64,
        n_head=4,
        d_inner=128,
        n_layers=2,
        feat_pe_drop=0.,
        feat_size=4 * 32,
        init_cfg=dict(type='Normal', std=0.125, layer='Embedding')),
    label_convertor=label_convertor,
    max_seq_len=max_seq_len)

img_norm_cfg = dict(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
resize = dict(
    type='ResizeOCR',
    height=32,
    min_width=32,
    max_width=128,
    keep_aspect_ratio=True)
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
            'filename', 'ori_shape', 'img_shape', 'valid_ratio',
            'resize_shape'
        ]),
]
# the training set checks its labels against the convertor's characters
train = dict({{_base_.train}}, charset=label_convertor)
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

optimizer = dict(type='Adam', lr=2e-3)
optimizer_config = dict(grad_clip=dict(max_norm=5.0))
lr_config = dict(
    policy='CosineAnnealing',
    min_lr=1e-5,
    by_epoch=False,
    warmup='linear',
    warmup_iters=200,
    warmup_ratio=0.1)
runner = dict(type='EpochBasedRunner', max_epochs=4)
checkpoint_config = dict(interval=1, max_keep_ckpts=2)
evaluation = dict(
    interval=391, by_epoch=False, metric='acc', save_best='0_word_acc')
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])
channels_last = True
fused_optimizer = True

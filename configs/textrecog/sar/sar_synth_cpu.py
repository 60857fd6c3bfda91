# SAR on generated word crops: the CPU demo of the attention recognisers.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/sar/sar_synth_cpu.py
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
# The model is configs/_base_/recog_models/sar.py (ResNet31OCR + SAREncoder +
# ParallelSARDecoder, SARLoss, AttnConvertor) narrowed to fit a CPU budget:
# * ResNet31OCR channels 64..512 -> 8..64 and one block per stage instead of 1/2/5/3
#   (0.8 M parameters instead of 57 M);
# * encoder/decoder LSTMs 512 -> 128 wide, attention d_k 512 -> 64;
# * 32-pixel-high crops, at most 128 wide (MMOCR: 48 high, 48-160 wide), aspect ratio kept and
#   padding masked by valid_ratio, as MMOCR's SAR pipeline does;
# * DICT36, lower-case (the generated words are), max_seq_len 12 (10 characters + start/end);
# * no dropout (MMOCR: 0.1 in the encoder LSTM and on the predictions): 50,000 fresh words
#   do not overfit in 4 epochs, and dropout slows the first steps;
# * Adam 2e-3 (MMOCR: 1e-3) with warm-up and a cosine decay per iteration instead of steps at
#   epochs 3 and 4, over 4 epochs (~20 minutes on 2 idle CPU ranks: the lr is low by the time
#   the budget ends; over 6 epochs it was still at 40% of its peak at 18 minutes);
# * an evaluation every half epoch (391 iterations of 2 x 32 words), not every epoch, so the
#   curve shows inside the budget (each costs ~10 s).
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/recog_datasets/synth_recog_cpu.py'
]

max_seq_len = 12
label_convertor = dict(
    type='AttnConvertor',
    dict_type='DICT36',
    with_unknown=False,
    lower=True,
    max_seq_len=max_seq_len)

model = dict(
    type='SARNet',
    backbone=dict(
        type='ResNet31OCR',
        layers=[1, 1, 1, 1],
        channels=[8, 16, 32, 32, 64, 64, 64]),
    encoder=dict(
        type='SAREncoder',
        enc_bi_rnn=False,
        enc_do_rnn=0.0,
        enc_gru=False,
        d_model=64,
        d_enc=128),
    decoder=dict(
        type='ParallelSARDecoder',
        enc_bi_rnn=False,
        dec_bi_rnn=False,
        dec_do_rnn=0,
        dec_gru=False,
        pred_dropout=0.0,
        d_k=64,
        d_model=64,
        d_enc=128,
        pred_concat=True),
    loss=dict(type='SARLoss'),
    label_convertor=label_convertor,
    max_seq_len=max_seq_len)

img_norm_cfg = dict(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
resize = dict(
    type='ResizeOCR',
    height=32,
    min_width=32,
    max_width=128,
    keep_aspect_ratio=True,
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
            'filename', 'ori_shape', 'resize_shape', 'text', 'valid_ratio'
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
        meta_keys=['filename', 'ori_shape', 'resize_shape', 'valid_ratio']),
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

# CRNN on generated word crops: the CPU demo.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textrecog/crnn/crnn_synth_cpu.py
#
# Two CPU ranks of one thread each pass word_acc 0.98 on the 2,000 held-out words at the
# epoch-3 evaluation: measured on the idle 2-core development machine (2026-11-27, 782 steps of
# 2 x 32 crops per epoch at ~0.17 s a step) word_acc 0.930 / 0.972 / 0.990 / 0.994 after epochs
# 1-4, at 2.4 / 4.7 / 7.0 / 9.3 min after launch. The data is rendered by
#
#   python -m ocr_ds.tools.gen_recog_data data/synth_recog \
#       --num-train 50000 --num-test 2000 --seed 0
#
# which the engine runs from ``synth_data`` in configs/_base_/recog_datasets/synth_recog_cpu.py
# (the datasets this config inherits) when data/synth_recog is missing or was made with other
# arguments (under a minute; 500 MB with the lmdb copies).
#
# The model is configs/_base_/recog_models/crnn.py made to fit a CPU budget:
# * VGG channels 64..512 -> 32..128 (0.49 M parameters instead of 8.3 M);
# * ``rnn_flag=False``: a 1x1-convolution decoder instead of the two BiLSTMs. With LSTMs this
#   small network sits on CTC's all-blank plateau for ~600 steps and needs twice the budget;
# * 32x128 input instead of 32x100, so doubled narrow letters ("ll", "ii") keep enough time
#   steps for CTC's separating blank;
# * Adam 2e-3 with warm-up and cosine decay instead of constant Adadelta 1.0.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/recog_datasets/synth_recog_cpu.py'
]

label_convertor = dict(
    type='CTCConvertor', dict_type='DICT36', with_unknown=False, lower=True)

model = dict(
    type='CRNNNet',
    preprocessor=None,
    backbone=dict(
        type='VeryDeepVgg',
        leaky_relu=False,
        input_channels=1,
        channels=(32, 64, 96, 96, 128, 128, 128)),
    encoder=None,
    decoder=dict(type='CRNNDecoder', in_channels=128, rnn_flag=False),
    loss=dict(type='CTCLoss', zero_infinity=True),
    label_convertor=label_convertor,
    pretrained=None)

img_norm_cfg = dict(mean=[127], std=[127])
# Train and test see the same 32x128 crops: a model this small has no margin for the aspect
# ratio change of MMOCR's keep-ratio test resize.
pipeline = [
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(
        type='ResizeOCR',
        height=32,
        min_width=128,
        max_width=128,
        keep_aspect_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='DefaultFormatBundle'),
    dict(
        type='Collect',
        keys=['img'],
        meta_keys=['filename', 'resize_shape', 'text', 'valid_ratio']),
]
# the training set checks its labels against the convertor's characters
train = dict({{_base_.train}}, pipeline=pipeline, charset=label_convertor)
test = dict({{_base_.test}}, pipeline=pipeline)

data = dict(
    samples_per_gpu=32,
    # One data-loader worker per rank, kept between epochs: the crops are decoded while the
    # rank computes, so data_time stays near 1% of the iteration (benchmarks/
    # data_throughput.py; in the main process it was 2%). More workers only add processes on
    # the 2 cores.
    workers_per_gpu=1,
    persistent_workers=True,
    val_dataloader=dict(samples_per_gpu=128),
    test_dataloader=dict(samples_per_gpu=128),
    train=dict(type='UniformConcatDataset', datasets=[train]),
    val=dict(type='UniformConcatDataset', datasets=[test]),
    test=dict(type='UniformConcatDataset', datasets=[test]))

optimizer = dict(type='Adam', lr=2e-3)
optimizer_config = dict(grad_clip=dict(max_norm=5.0))
lr_config = dict(
    policy='CosineAnnealing',
    min_lr=2e-5,
    by_epoch=False,
    warmup='linear',
    warmup_iters=100,
    warmup_ratio=0.1)
runner = dict(type='EpochBasedRunner', max_epochs=4)
checkpoint_config = dict(interval=1, max_keep_ckpts=2)
evaluation = dict(interval=1, metric='acc', save_best='0_word_acc')
log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook')])

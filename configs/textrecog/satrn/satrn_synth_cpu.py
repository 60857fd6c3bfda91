# SATRN on generated word crops: the CPU demo of the SATRN family.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/satrn/satrn_synth_cpu.py
#
# Data and schedule are the SAR demo's (configs/textrecog/sar/sar_synth_cpu.py: the CRNN
# demo's 50,000 + 2,000 generated words, made on first run under data/synth_recog), over its
# 4 epochs.
#
# The model is configs/textrecog/satrn/satrn_small.py (ShallowCNN + SatrnEncoder with the
# adaptive 2-D positional encoding and locality-aware feed-forward + NRTRDecoder, TFLoss)
# narrowed to fit a CPU budget:
# * d_model 256 -> 64 (4 heads of 16), feed-forward 256 wide (4 x d_model, as MMOCR's);
# * 2 encoder and 2 decoder layers instead of 6 + 6; no dropout (MMOCR: 0.1);
# * 24 x 96 crops (MMOCR: 32 x 100, aspect ratio not kept either): a 6 x 24 map, 144
#   positions. With 32 x 64 crops (16 columns) the 10-character words were read right 52% of
#   the time against 93% for 3-5 characters, and the demo ended at word_acc 0.837;
# * no test-time rotation (generated words are never tall);
# * DICT36, lower-case (the generated words are), max_seq_len 12 (MMOCR: DICT90, 25);
# * Adam 2e-3 with warm-up and a per-iteration cosine decay (MMOCR: 3e-4, steps at epochs 3
#   and 4), gradient clipping at 5;
# * ocr_ds's speed settings channels_last and fused_optimizer (README "Speed settings": the
#   same maths, last-bit differences).
# On 2 idle CPU ranks (0.29 s a step): word_acc 0.630 at 5.7 min, 0.882 at 11.8, 0.905 at
# 13.7 and at the end (15.5 min).
_base_ = ['../sar/sar_synth_cpu.py']

d_model = 64
heads = dict(n_head=4, d_k=d_model // 4, d_v=d_model // 4, d_model=d_model,
             d_inner=d_model * 4)
model = dict(
    _delete_=True,
    type='SATRN',
    backbone=dict(type='ShallowCNN', input_channels=3, hidden_dim=d_model),
    encoder=dict(type='SatrnEncoder', n_layers=2, n_position=100, dropout=0.0, **heads),
    decoder=dict(
        type='NRTRDecoder', n_layers=2, d_embedding=d_model, dropout=0.0, **heads),
    loss=dict(type='TFLoss'),
    label_convertor={{_base_.label_convertor}},
    max_seq_len={{_base_.max_seq_len}})

img_norm_cfg = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeOCR',
        height=24,
        min_width=96,
        max_width=96,
        keep_aspect_ratio=False,
        width_downsample_ratio=0.25),
    dict(type='ToTensorOCR'),
    dict(type='NormalizeOCR', **img_norm_cfg),
    dict(
        type='Collect',
        keys=['img'],
        meta_keys=[
            'filename', 'ori_shape', 'resize_shape', 'text', 'valid_ratio'
        ]),
]
data = dict(
    train=dict(pipeline=pipeline),
    val=dict(pipeline=pipeline),
    test=dict(pipeline=pipeline))
channels_last = True
fused_optimizer = True

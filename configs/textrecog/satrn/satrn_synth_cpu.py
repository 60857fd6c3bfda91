# SATRN on generated word crops: the CPU demo of the SATRN family.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/satrn/satrn_synth_cpu.py
#
# Data and schedule are the SAR demo's (configs/textrecog/sar/sar_synth_cpu.py: the CRNN
# demo's 50,000 + 2,000 generated words, made on first run under data/synth_recog).
#
# The model is configs/textrecog/satrn/satrn_small.py (ShallowCNN + SatrnEncoder with the
# adaptive 2-D positional encoding and locality-aware feed-forward + NRTRDecoder, TFLoss)
# narrowed to fit a CPU budget:
# * d_model 256 -> 64 (4 heads of 16), feed-forward 256 wide (4 x d_model, as MMOCR's);
# * 2 encoder and 2 decoder layers instead of 6 + 6;
# * 32 x 64 crops (MMOCR: 32 x 100, aspect ratio not kept either): an 8 x 16 map, 128 positions;
# * no test-time rotation (generated words are never tall);
# * DICT36, lower-case (the generated words are), max_seq_len 12 (MMOCR: DICT90, 25);
# * Adam 2e-3 with warm-up and a per-iteration cosine decay (MMOCR: 3e-4, steps at epochs 3
#   and 4), gradient clipping at 5.
_base_ = ['../sar/sar_synth_cpu.py']

d_model = 64
heads = dict(n_head=4, d_k=d_model // 4, d_v=d_model // 4, d_model=d_model,
             d_inner=d_model * 4)
model = dict(
    _delete_=True,
    type='SATRN',
    backbone=dict(type='ShallowCNN', input_channels=3, hidden_dim=d_model),
    encoder=dict(type='SatrnEncoder', n_layers=2, n_position=100, dropout=0.1, **heads),
    decoder=dict(type='NRTRDecoder', n_layers=2, d_embedding=d_model, **heads),
    loss=dict(type='TFLoss'),
    label_convertor={{_base_.label_convertor}},
    max_seq_len={{_base_.max_seq_len}})

img_norm_cfg = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeOCR',
        height=32,
        min_width=64,
        max_width=64,
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

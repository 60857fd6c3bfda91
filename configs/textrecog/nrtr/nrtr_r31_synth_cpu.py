# NRTR on generated word crops: the CPU demo of the NRTR family.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/nrtr/nrtr_r31_synth_cpu.py
#
# Data, pipelines (32 pixels high, 32-128 wide, aspect ratio kept, padding masked by
# valid_ratio) and the lr schedule are the SAR demo's (configs/textrecog/sar/sar_synth_cpu.py:
# the CRNN demo's 50,000 + 2,000 generated words, made on first run under data/synth_recog),
# over its 4 epochs.
#
# The model is configs/textrecog/nrtr/nrtr_r31_1by16_1by8_academic.py (ResNet31OCR with a
# (2, 1) stage-4 pool and a last-stage pool: a 2 x W/8 map, 32 positions for a 128-wide crop;
# NRTREncoder + NRTRDecoder, TFLoss) narrowed to fit a CPU budget:
# * ResNet31OCR channels 32..512 -> 8..64 (the SAR demo's) and one block per stage instead
#   of 1/2/5/3;
# * 2 encoder and 2 decoder layers instead of 6 + 6, d_model 512 -> 64 (4 heads of 16),
#   feed-forward 256 wide (as MMOCR's); 0.50 M parameters;
# * no dropout (MMOCR: 0.1 in every layer): 50,000 fresh words do not overfit in 4 epochs;
# * DICT36, lower-case (the generated words are), max_seq_len 12 (MMOCR: DICT90, 40);
# * Adam 2e-3 with warm-up and a per-iteration cosine decay (MMOCR: 1e-3, steps at epochs 3
#   and 4), gradient clipping at 5;
# * ocr_ds's speed settings channels_last and fused_optimizer (README "Speed settings": the
#   same maths, last-bit differences): 0.28-0.31 s a step on 2 idle CPU ranks instead of 0.37
#   (dropout off included).
# On 2 idle CPU ranks: word_acc 0.540 at 8.1 min, 0.879 at 11.9, 0.913 at 13.7 and 0.915 at
# the end (15.7 min). With dropout, contiguous tensors and 3 epochs: 0.791 at the end (14.6).
_base_ = ['../sar/sar_synth_cpu.py']

d_model = 64
heads = dict(n_head=4, d_k=d_model // 4, d_v=d_model // 4, d_model=d_model, d_inner=256)
model = dict(
    _delete_=True,
    type='NRTR',
    backbone=dict(
        type='ResNet31OCR',
        layers=[1, 1, 1, 1],
        channels=[8, 16, 32, 32, 64, 64],
        stage4_pool_cfg=dict(kernel_size=(2, 1), stride=(2, 1)),
        last_stage_pool=True),
    encoder=dict(type='NRTREncoder', n_layers=2, dropout=0.0, **heads),
    decoder=dict(
        type='NRTRDecoder',
        n_layers=2,
        d_embedding=d_model,
        n_position=50,
        dropout=0.0,
        **heads),
    loss=dict(type='TFLoss'),
    label_convertor={{_base_.label_convertor}},
    max_seq_len={{_base_.max_seq_len}})

runner = dict(type='EpochBasedRunner', max_epochs=4)
channels_last = True
fused_optimizer = True

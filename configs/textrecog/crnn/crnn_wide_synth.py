# A wide CRNN (58 M parameters) on the generated words of the CPU demo: the model of the ZeRO
# memory benchmark (benchmarks/zero_memory.py), big enough that what each rank holds is
# dominated by parameters, gradients and Adam's two moments rather than by fixed overheads.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/crnn/crnn_wide_synth.py \
#       --cfg-options deepspeed.zero_optimization.stage=3
#
# MMOCR's CRNN (configs/_base_/recog_models/crnn.py, 8.3 M parameters) with every VGG width
# doubled (64..512 -> 128..1024) and the two BiLSTMs 1024 wide instead of 256; data, pipeline
# and schedule are those of crnn_synth_cpu.py (same generated data set, so no second copy).
# Parameters: VGG 22.2 M, BiLSTMs and projections 35.8 M (test:
# tests/models/test_crnn_wide_config.py). Not tuned for accuracy: a CPU rank takes seconds
# per step with it.
_base_ = ['./crnn_synth_cpu.py']

model = dict(
    backbone=dict(channels=(128, 256, 512, 512, 1024, 1024, 1024)),
    decoder=dict(in_channels=1024, rnn_flag=True, hidden_channels=1024))

data = dict(samples_per_gpu=8)

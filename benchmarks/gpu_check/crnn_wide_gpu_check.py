# The 58 M-parameter wide CRNN of benchmarks/zero_memory.py (configs/textrecog/crnn/
# crnn_wide_synth.py's model: VGG 128..1024 channels, 1024-wide BiLSTMs) on gpu_check's generated
# words: the ZeRO memory part of benchmarks/gpu_check.sh (peak CUDA memory per rank at ZeRO-0/2/3,
# ocr_ds's buffer sizes and DeepSpeed's side by side).
_base_ = ['./crnn_gpu_check.py']

model = dict(
    backbone=dict(channels=(128, 256, 512, 512, 1024, 1024, 1024)),
    decoder=dict(in_channels=1024, rnn_flag=True, hidden_channels=1024))

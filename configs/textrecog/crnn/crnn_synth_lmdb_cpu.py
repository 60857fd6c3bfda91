# The CRNN CPU demo (crnn_synth_cpu.py) reading labels and images from lmdbs instead of a label
# file and image files.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textrecog/crnn/crnn_synth_lmdb_cpu.py
#
# gen_recog_data (run by the engine from `synth_data`) writes data/synth_recog/train_lmdb and
# test_lmdb beside the images; for another data set make them with
#
#   python -m ocr_ds.tools.to_lmdb recog data/synth_recog/train_label.txt \
#       data/synth_recog/train_lmdb --img-root data/synth_recog/train
#
# An lmdb holding images (`image-%09d`) is both `ann_file` and `img_prefix`, and the pipeline
# loads with LoadImageFromLMDB (the same as LoadImageFromFile with
# file_client_args=dict(backend='lmdb')). Each data-loader worker opens the lmdb once, lazily,
# in its own process. A labels-only lmdb (`to_lmdb recog --label-only`) keeps `img_prefix` on
# the image folder and LoadImageFromFile, as configs/_base_/recog_datasets/MJ_train.py does.
_base_ = ['./crnn_synth_cpu.py']

data_root = 'data/synth_recog'
# the base pipeline with its first step (LoadImageFromFile from disk) replaced
pipeline = [
    dict(type='LoadImageFromLMDB', color_type='grayscale'),
    *{{ _base_.pipeline }}[1:],
]
loader = dict(
    type='AnnFileLoader',
    repeat=1,
    file_format='lmdb',
    parser=dict(type='LineJsonParser', keys=['filename', 'text']))
train = dict(
    type='OCRDataset',
    img_prefix=f'{data_root}/train_lmdb',
    ann_file=f'{data_root}/train_lmdb',
    loader=loader,
    pipeline=pipeline,
    charset={{ _base_.label_convertor }},
    test_mode=False)
test = dict(
    type='OCRDataset',
    img_prefix=f'{data_root}/test_lmdb',
    ann_file=f'{data_root}/test_lmdb',
    loader=loader,
    pipeline=pipeline,
    test_mode=True)
data = dict(
    train=dict(datasets=[train]),
    val=dict(datasets=[test]),
    test=dict(datasets=[test]))

# The DBNet CPU demo (dbnet_r18_synth_cpu.py) reading its images from an lmdb instead of files.
#
#   deepspeed --num_gpus 2 ocr_ds/train.py configs/textdet/dbnet/dbnet_r18_synth_lmdb_cpu.py
#
# Only the image loading step changes: the annotations stay COCO JSON, and each sample's
# `file_name` (e.g. `training/img_1.jpg`) is the lmdb key. The engine makes the lmdb with the
# scenes (`write_lmdb=True` below); for another data set convert its images with
#
#   python -m ocr_ds.tools.to_lmdb det data/synth_det/instances_training.json \
#       data/synth_det/instances_test.json data/synth_det/imgs_lmdb --img-root data/synth_det/imgs
#
# Each data-loader worker opens the lmdb once, lazily, in its own process.
_base_ = ['./dbnet_r18_synth_cpu.py']

data_root = 'data/synth_det'
synth_data = dict(write_lmdb=True)
file_client_args = dict(backend='lmdb', db_path=f'{data_root}/imgs_lmdb')
load_from_lmdb = dict(type='LoadImageFromFile', file_client_args=file_client_args)
# the base pipelines with their first step (LoadImageFromFile from disk) replaced
train_pipeline = [load_from_lmdb, *{{ _base_.train_pipeline }}[1:]]
test_pipeline = [load_from_lmdb, *{{ _base_.test_pipeline }}[1:]]
data = dict(
    train=dict(pipeline=train_pipeline),
    val=dict(pipeline=test_pipeline),
    test=dict(pipeline=test_pipeline))

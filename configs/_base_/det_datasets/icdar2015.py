# ICDAR 2015 incidental scene text, converted to COCO JSON (MMOCR's layout):
#   data/icdar2015/imgs/training/img_N.jpg, imgs/test/img_N.jpg,
#   data/icdar2015/instances_training.json, instances_test.json (file_name 'training/img_N.jpg').
# Convert the official release (annotations/{training,test}/gt_img_N.txt) as MMOCR does with:
#   python -m ocr_ds.tools.data.textdet.icdar_converter data/icdar2015 -o data/icdar2015 \
#       -d icdar2015 --split-list training test
# `ann_file` may also be a directory of gt_img_N.txt files directly.
dataset_type = 'IcdarDataset'
data_root = 'data/icdar2015'

train = dict(
    type=dataset_type,
    ann_file=f'{data_root}/instances_training.json',
    img_prefix=f'{data_root}/imgs',
    pipeline=None)

test = dict(
    type=dataset_type,
    ann_file=f'{data_root}/instances_test.json',
    img_prefix=f'{data_root}/imgs',
    pipeline=None)

train_list = [train]

test_list = [test]

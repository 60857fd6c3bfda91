# SCUT-CTW1500 curved text (14-point polygons), as COCO JSON in MMOCR's layout:
#   data/ctw1500/imgs/training/NNNN.jpg, imgs/test/NNNN.jpg,
#   data/ctw1500/instances_training.json, instances_test.json (file_name 'training/NNNN.jpg'),
# which MMOCR 0.x's tools/data/textdet/ctw1500_converter.py writes from the official release
# (so does `python -m ocr_ds.tools.data.textdet.ctw1500_converter data/ctw1500 -o data/ctw1500
# --split-list training test`, byte for byte).
# hmean-iou compares the polygons as they are (not their bounding quadrilaterals).
dataset_type = 'IcdarDataset'
data_root = 'data/ctw1500'

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

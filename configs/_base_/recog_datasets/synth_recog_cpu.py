# The generated word crops of the CPU recognition demos: the CRNN, SAR, MASTER and ABINet
# demos inherit this file (and the NRTR, SATRN and RobustScanner demos through the SAR
# demo's). They are rendered by
#
#   python -m ocr_ds.tools.gen_recog_data data/synth_recog \
#       --num-train 50000 --num-test 2000 --seed 0
#
# which the engine runs from ``synth_data`` below when data/synth_recog is missing or was made
# with other arguments.
#
# As MMOCR's _base_/recog_datasets files do, this defines the datasets without pipelines: the
# config that inherits it takes ``train`` and ``test`` through the ``_base_.train`` /
# ``_base_.test`` substitution and builds ``data`` with its own pipelines. A demo whose training
# set checks the labels against its convertor's characters adds ``charset=label_convertor`` to
# its copy of ``train``.
data_root = 'data/synth_recog'
synth_data = dict(
    tool='gen_recog_data',
    out_dir=data_root,
    num_train=50000,
    num_test=2000,
    seed=0,
    charset='DICT36')

parser = dict(
    type='LineStrParser',
    keys=['filename', 'text'],
    keys_idx=[0, 1],
    separator=' ')
train = dict(
    type='OCRDataset',
    img_prefix=f'{data_root}/train',
    ann_file=f'{data_root}/train_label.txt',
    loader=dict(
        type='AnnFileLoader', repeat=1, file_format='txt', parser=parser),
    pipeline=None,
    test_mode=False)
test = dict(
    type='OCRDataset',
    img_prefix=f'{data_root}/test',
    ann_file=f'{data_root}/test_label.txt',
    loader=dict(
        type='AnnFileLoader', repeat=1, file_format='txt', parser=parser),
    pipeline=None,
    test_mode=True)

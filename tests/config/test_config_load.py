"""Loading config files: formats, ``_base_`` chains, ``_delete_``, substitutions."""
import os
from pathlib import Path

import pytest

from ocr_ds.config import Config, ConfigDict

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs"
DBNET = FIXTURES / "textdet" / "dbnet" / "dbnet_r18_toy.py"

TOY_TRAIN = [
    {"type": "IcdarDataset", "ann_file": "data/toy/instances_training.json",
     "img_prefix": "data/toy/imgs", "pipeline": None},
    {"type": "IcdarDataset", "ann_file": "data/toy/extra.json",
     "img_prefix": "data/toy/imgs", "pipeline": None},
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def dbnet() -> Config:
    return Config.fromfile(DBNET)


def test_three_deep_chain_with_relative_paths_in_subfolders(dbnet):
    # dbnet_r18_toy.py -> ../../mid/dbnet_r18.py -> ../_base_/models/dbnet_base.py
    assert dbnet.model.backbone == {
        "type": "mmdet.ResNet", "depth": 18, "out_indices": (0, 1, 2, 3), "norm_eval": False,
        "norm_cfg": {"type": "BN", "requires_grad": True}}
    assert dbnet.model.bbox_head == {"type": "DBHead", "in_channels": 256,
                                     "loss": {"type": "DBLoss", "alpha": 5.0}}
    assert dbnet.total_epochs == 1200


def test_list_base_merges_all_bases_in_order(dbnet):
    assert list(dbnet) == [
        "model", "img_norm_cfg", "optimizer", "optimizer_config", "lr_config", "total_epochs",
        "checkpoint_config", "log_config", "dist_params", "workflow", "runtime_file",
        "dataset_type", "data_root", "train", "test", "train_list", "test_list",
        "train_pipeline", "data", "evaluation", "work_dir"]
    assert dbnet.dist_params == {"backend": "nccl", "port": 29500}


def test_child_dicts_merge_and_everything_else_replaces(dbnet):
    assert dbnet.optimizer == {"type": "SGD", "lr": 0.01, "momentum": 0.9,
                               "weight_decay": 0.0001}
    assert dbnet.checkpoint_config == {"interval": 100, "max_keep_ckpts": 3}
    assert dbnet.workflow == [("train", 1), ("val", 1)]  # list replaced, not appended


def test_delete_replaces_the_base_dict_and_never_survives(dbnet):
    assert dbnet.model.neck == {"type": "FPNC", "in_channels": [64, 128, 256, 512],
                                "lateral_channels": 256}
    # _delete_=False merges as usual, and the flag is dropped too
    assert dbnet.lr_config == {"policy": "poly", "power": 1.0, "min_lr": 1e-7, "by_epoch": True}
    assert "_delete_" not in repr(dbnet)


def test_delete_inside_a_new_key_and_without_base_is_dropped(tmp_path):
    path = write(tmp_path, "a.py", "a = dict(_delete_=True, b=dict(_delete_=True, c=1))\n")
    assert Config.fromfile(path).to_dict() == {"a": {"b": {"c": 1}}}


def test_delete_replaces_a_non_dict_base_value(tmp_path):
    write(tmp_path, "base.py", "a = 1\nb = [1, 2]\n")
    path = write(tmp_path, "child.py",
                 "_base_ = 'base.py'\na = dict(_delete_=True, x=1)\nb = dict(_delete_=True)\n")
    assert Config.fromfile(path).to_dict() == {"a": {"x": 1}, "b": {}}


def test_base_ref_gives_a_list_of_dicts(dbnet):
    assert dbnet.train_list == TOY_TRAIN
    assert dbnet.data.train.datasets == TOY_TRAIN
    assert dbnet.data.test.datasets == [{
        "type": "IcdarDataset", "ann_file": "data/toy/instances_test.json",
        "img_prefix": "data/toy/imgs", "pipeline": None}]
    assert dbnet.img_norm_cfg == {"mean": [123.675, 116.28, 103.53],
                                  "std": [58.395, 57.12, 57.375], "to_rgb": True}
    assert isinstance(dbnet.data.train.datasets[1], ConfigDict)


def test_base_ref_is_a_copy(tmp_path):
    write(tmp_path, "base.py", "a = dict(b=[1])\n")
    path = write(tmp_path, "child.py", "_base_ = 'base.py'\nx = {{ _base_.a }}\nx['b'].append(2)\n")
    cfg = Config.fromfile(path)
    assert cfg.to_dict() == {"a": {"b": [1]}, "x": {"b": [1, 2]}}


def test_base_ref_nested_key_and_list_index(tmp_path):
    write(tmp_path, "base.py", "m = dict(b=dict(c=[10, dict(d=4)]))\n")
    path = write(tmp_path, "c.py",
                 "_base_ = ['base.py']\nx = {{_base_.m.b.c}}\ny = {{ _base_.m.b.c.1.d }}\n")
    cfg = Config.fromfile(path)
    assert (cfg.x, cfg.y) == ([10, {"d": 4}], 4)


def test_mixed_formats_json_yaml_py(tmp_path):
    cfg = Config.fromfile(FIXTURES / "formats" / "child.py")
    assert cfg.to_dict() == {
        "model": {"type": "CRNN", "backbone": {"type": "VeryDeepVgg", "leaky_relu": True},
                  "head": {"type": "CRNNDecoder", "in_channels": 512, "rnn_flag": True}},
        "label_convertor": {"type": "CTCConvertor", "dict_type": "DICT36", "with_unknown": False},
        "train_list": [{"type": "OCRDataset", "ann_file": "a.txt"},
                       {"type": "OCRDataset", "ann_file": "b.txt"}],
        "total_epochs": 5,
        "data": {"samples_per_gpu": 64, "train": {
            "type": "UniformConcatDataset",
            "datasets": [{"type": "OCRDataset", "ann_file": "a.txt"},
                         {"type": "OCRDataset", "ann_file": "b.txt"}]}}}


def test_base_ref_in_yaml_and_json(tmp_path):
    write(tmp_path, "base.py", "lst = [dict(a=1), dict(b=(1, 2))]\n")
    y = write(tmp_path, "c.yaml", "_base_: [base.py]\nx: {{ _base_.lst }}\n")
    j = write(tmp_path, "c.json", '{"_base_": "base.py", "x": {{_base_.lst}}}')
    for path in (y, j):
        assert Config.fromfile(path).x == [{"a": 1}, {"b": (1, 2)}]


def test_file_name_substitutions_py():
    cfg = Config.fromfile(FIXTURES / "subst" / "vars.py")
    here = str(FIXTURES / "subst")
    assert cfg.to_dict() == {"dirname": here, "basename": "vars.py", "stem": "vars",
                             "ext": ".py", "log_file": f"{here}/vars.log"}


def test_file_name_substitutions_yaml():
    cfg = Config.fromfile(FIXTURES / "subst" / "vars.yaml")
    assert cfg.to_dict() == {"dirname": str(FIXTURES / "subst"), "basename": "vars.yaml",
                             "stem": "vars", "ext": ".yaml"}


def test_substitutions_are_per_file(dbnet):
    assert dbnet.work_dir == "work_dirs/dbnet_r18_toy"
    assert dbnet.runtime_file == "default_runtime.py"  # base's own __file__


def test_py_config_skips_modules_functions_classes_and_dunders(tmp_path):
    path = write(tmp_path, "a.py", "import os\nfrom math import sqrt\nfrom collections import "
                 "OrderedDict\n__x = 1\n_y = 2\ndef f(): pass\nclass C: pass\nz = sqrt(4)\n")
    assert Config.fromfile(path).to_dict() == {"_y": 2, "z": 2.0}


def test_yaml_yml_json_load(tmp_path):
    assert Config.fromfile(write(tmp_path, "a.yml", "a: {b: [1, 2]}\n")).a.b == [1, 2]
    assert Config.fromfile(write(tmp_path, "e.yaml", "")).to_dict() == {}
    assert Config.fromfile(write(tmp_path, "a.json", '{"a": null}')).to_dict() == {"a": None}


def test_fromfile_merges_cfg_options_tokens_or_dict(tmp_path):
    cfg = Config.fromfile(DBNET, cfg_options=["model.backbone.depth=50", "optimizer.lr=0.1",
                                              "data.train.pipeline.0.type=LoadImageFromLMDB"])
    assert (cfg.model.backbone.depth, cfg.optimizer.lr) == (50, 0.1)
    assert cfg.data.train.pipeline[0] == {"type": "LoadImageFromLMDB",
                                          "color_type": "color_ignore_orientation"}
    cfg = Config.fromfile(DBNET, cfg_options={"total_epochs": 3})
    assert cfg.total_epochs == 3


def test_filename_is_kept_as_given():
    rel = os.path.relpath(DBNET)
    assert Config.fromfile(rel).filename == rel


def test_base_ref_inside_expressions_in_py(dbnet):
    # `dict(type='Normalize', **img_norm_cfg)` with img_norm_cfg = {{ _base_.img_norm_cfg }}
    assert dbnet.train_pipeline == [
        {"type": "LoadImageFromFile", "color_type": "color_ignore_orientation"},
        {"type": "Normalize", "mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375],
         "to_rgb": True},
        {"type": "Collect", "keys": ["img", "gt_shrink"]}]
    assert dbnet.data.train.pipeline == dbnet.train_pipeline


def test_base_ref_with_computed_base_is_a_whole_value(tmp_path):
    # a computed _base_ cannot be known before running the file: mmcv's placeholder way
    write(tmp_path, "b.py", "lst = [dict(a=1)]\n")
    path = write(tmp_path, "c.py", "_base_ = 'b' + '.py'\nx = {{ _base_.lst }}\ny = [x]\n")
    cfg = Config.fromfile(path)
    assert (cfg.x, cfg.y) == ([{"a": 1}], [[{"a": 1}]])


def test_base_ref_in_a_comment_is_ignored(tmp_path):
    write(tmp_path, "b.py", "a = 1\n")
    path = write(tmp_path, "c.py", "_base_ = 'b.py'\n# old = {{ _base_.gone }}\nx = {{_base_.a}}\n")
    assert Config.fromfile(path).to_dict() == {"a": 1, "x": 1}


def test_quoted_base_ref_in_py_is_the_whole_value(tmp_path):
    write(tmp_path, "b.py", "a = [1, (2,)]\n")
    path = write(tmp_path, "c.py", "_base_ = 'b.py'\nx = '{{ _base_.a }}'\n")
    assert Config.fromfile(path).x == [1, (2,)]

"""Config / ConfigDict as objects: attribute access, copies, pickling, merge_from_dict."""
import copy
import pickle

import pytest

from ocr_ds.config import Config, ConfigDict
from ocr_ds.errors import UserError


def make() -> Config:
    return Config({
        "model": {"type": "CRNN", "backbone": {"type": "VeryDeepVgg", "depth": 7}},
        "data": {"samples_per_gpu": 64,
                 "train": {"type": "OCRDataset",
                           "pipeline": [{"type": "LoadImageFromFile"},
                                        {"type": "Resize", "scale": (100, 32)}]}},
        "workflow": [("train", 1)],
    }, filename="configs/crnn.py")


def test_attribute_access_is_recursive_also_through_lists():
    cfg = make()
    assert cfg.data.samples_per_gpu == 64
    assert cfg.data.train.pipeline[0].type == "LoadImageFromFile"
    assert cfg.data.train.pipeline[1].scale == (100, 32)
    assert cfg["data"]["train"]["type"] == "OCRDataset"
    assert isinstance(cfg.data.train.pipeline[1], ConfigDict)
    assert cfg.workflow[0] == ("train", 1)
    assert isinstance(cfg, dict) and cfg.filename == "configs/crnn.py"


def test_attribute_assignment_converts_dicts():
    cfg = make()
    cfg.work_dir = "work_dirs/x"
    cfg.data.val = {"type": "OCRDataset", "pipeline": [{"type": "A"}]}
    cfg.setdefault("extra", {"a": {"b": 1}})
    cfg.update(more=[{"c": 2}])
    assert cfg["work_dir"] == "work_dirs/x"
    assert cfg.data.val.pipeline[0].type == "A"
    assert (cfg.extra.a.b, cfg.more[0].c) == (1, 2)
    del cfg.work_dir
    assert "work_dir" not in cfg


def test_missing_attribute_is_attribute_error_with_hint():
    cfg = make()
    assert getattr(cfg, "work_dir", "default") == "default"
    assert not hasattr(cfg.data, "val")
    with pytest.raises(AttributeError) as err:
        cfg.data.trian
    assert str(err.value) == ("'ConfigDict' object has no attribute 'trian': no config key "
                              "'trian'; did you mean 'train'? (keys here: samples_per_gpu, train)")


def test_dict_methods_cannot_be_overwritten_by_attribute():
    cfg = make()
    with pytest.raises(AttributeError, match="has a method or property of that name; use "
                                             r"cfg\['keys'\]"):
        cfg.keys = 1
    with pytest.raises(AttributeError, match="'filename'"):
        cfg.filename = "x.py"


def test_get_to_dict_and_construction():
    cfg = make()
    assert cfg.get("model").backbone.depth == 7
    assert cfg.get("nope", 3) == 3
    plain = cfg.to_dict()
    assert type(plain) is dict and type(plain["data"]["train"]["pipeline"][1]) is dict
    assert plain["data"]["train"]["pipeline"][1]["scale"] == (100, 32)
    assert Config(plain) == cfg and Config().to_dict() == {} and Config().filename is None
    assert ConfigDict(a={"b": 1}).a.b == 1


def test_deepcopy_copy_and_pickle_keep_type_and_filename():
    cfg = make()
    for other in (copy.deepcopy(cfg), pickle.loads(pickle.dumps(cfg)), cfg.copy()):
        assert type(other) is Config and other == cfg and other.filename == "configs/crnn.py"
        assert other.data.train.pipeline[1].scale == (100, 32)
    deep = copy.deepcopy(cfg)
    deep.data.train.pipeline[0].type = "Changed"
    assert cfg.data.train.pipeline[0].type == "LoadImageFromFile"
    shallow = cfg.copy()
    shallow.model = None
    assert cfg.model.type == "CRNN"


def test_merge_from_dict_dotted_keys():
    cfg = make()
    cfg.merge_from_dict({"model.backbone.depth": 11, "model.neck.type": "Neck",
                         "data.samples_per_gpu": 8, "workflow": [("val", 1)]})
    assert cfg.model.to_dict() == {"type": "CRNN", "backbone": {"type": "VeryDeepVgg", "depth": 11},
                                   "neck": {"type": "Neck"}}
    assert (cfg.data.samples_per_gpu, cfg.workflow) == (8, [("val", 1)])
    assert isinstance(cfg.model.neck, ConfigDict)


def test_merge_from_dict_list_index():
    cfg = make()
    cfg.merge_from_dict({"data.train.pipeline.0.type": "LoadImageFromLMDB",
                         "data.train.pipeline.1.scale": (128, 32),
                         "workflow.0": ("val", 2)})
    assert cfg.data.train.pipeline == [{"type": "LoadImageFromLMDB"},
                                       {"type": "Resize", "scale": (128, 32)}]
    assert cfg.workflow == [("val", 2)]


def test_merge_from_dict_index_into_tuple_keeps_tuple():
    cfg = Config({"a": {"scale": (1, 2, 3)}})
    cfg.merge_from_dict({"a.scale.2": 9})
    assert cfg.a.scale == (1, 2, 9)


def test_merge_from_dict_delete_flag():
    cfg = make()
    cfg.merge_from_dict({"model.backbone._delete_": True, "model.backbone.type": "ResNet31OCR"})
    assert cfg.model.backbone == {"type": "ResNet31OCR"}


def test_merge_from_dict_tokens_are_never_evaluated():
    from ocr_ds.config import parse_cfg_options
    cfg = make()
    cfg.merge_from_dict(parse_cfg_options(["model.type=__import__('os').system('x')"]))
    assert cfg.model.type == "__import__('os').system('x')"


def test_merge_from_dict_without_list_keys():
    cfg = make()
    with pytest.raises(UserError, match=r"data\.train\.pipeline\.0: cannot index into "
                                        r"data\.train\.pipeline: expected a dict there"):
        cfg.merge_from_dict({"data.train.pipeline.0.type": "X"}, allow_list_keys=False)

"""Writing the final config: ``.py``/``.json``/``.yaml`` round trips and atomic writes."""
import ast
import json
from pathlib import Path

import pytest

from ocr_ds.config import Config
from ocr_ds.errors import UserError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "configs"

TRICKY = {
    "model": {"type": "DBNet", "out_indices": (0, 1, 2, 3), "one": (5,), "empty_t": (),
              "empty_l": [], "empty_d": {}, "nested": [[1, [2, (3, [4])]], ({"a": (1,)},)]},
    "scales": [(1333, 736), (640, 640)],
    "floats": [0.1, 1e-07, -2.5, 1e20, float("inf")],
    "flags": [True, False, None],
    "string": "it's \"quoted\" \\ {x} ünï\n",
    "odd_keys": {"0_hmean": 1, "with space": 2, "class": 3, 7: "int key"},
    "long": [{"type": f"Step{i}", "args": list(range(i))} for i in range(8)],
}


def tuples_to_lists(value):
    if isinstance(value, dict):
        return {k: tuples_to_lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [tuples_to_lists(v) for v in value]
    return value


@pytest.fixture(scope="module")
def dbnet() -> Config:
    return Config.fromfile(FIXTURES / "textdet" / "dbnet" / "dbnet_r18_toy.py")


@pytest.mark.parametrize("ext", [".py", ".yaml", ".yml"])
def test_round_trip_keeps_tuples(tmp_path, dbnet, ext):
    for data in (dbnet.to_dict(), TRICKY):
        path = tmp_path / f"out{ext}"
        Config(data).dump(path)
        back = Config.fromfile(path)
        assert back == data
        assert back.to_dict() == data and repr(back.to_dict()) == repr(data)  # tuple stays tuple


def test_json_round_trip_turns_tuples_into_lists(tmp_path, dbnet):
    path = tmp_path / "out.json"
    dbnet.dump(path)
    assert Config.fromfile(path).to_dict() == tuples_to_lists(dbnet.to_dict())
    assert json.loads(path.read_text())["model"]["backbone"]["out_indices"] == [0, 1, 2, 3]


def test_pretty_text_is_valid_readable_python(dbnet):
    text = dbnet.pretty_text
    ast.parse(text)
    assert "out_indices=(0, 1, 2, 3)," in text
    assert "optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)\n" in text
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "_base_" not in text and "_delete_" not in text


def test_pretty_text_layout():
    cfg = Config({"a": 1, "b": (1,), "c": {"x": "y"}, "d": {"0": 1},
                  "e": [dict(type="T" * 40, value=i) for i in range(3)]})
    assert cfg.pretty_text == (
        "a = 1\n"
        "b = (1,)\n"
        "c = dict(x='y')\n"
        "d = {'0': 1}\n"
        "e = [\n"
        f"    dict(type='{'T' * 40}', value=0),\n"
        f"    dict(type='{'T' * 40}', value=1),\n"
        f"    dict(type='{'T' * 40}', value=2),\n"
        "]\n")


def test_dump_without_file_returns_text_in_own_format(dbnet):
    assert dbnet.dump() == dbnet.pretty_text
    assert json.loads(Config({"a": (1,)}, filename="x.json").dump()) == {"a": [1]}


def test_dump_is_atomic_and_replaces(tmp_path):
    path = tmp_path / "cfg.py"
    path.write_text("old = 1\n")
    Config({"new": 2}).dump(path)
    assert path.read_text() == "new = 2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.py"]  # no temp file left


def test_failed_dump_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("old: 1\n")
    with pytest.raises(UserError, match="cfg.yaml: cannot write this config as yaml"):
        Config({"bad": object()}).dump(path)
    assert path.read_text() == "old: 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.yaml"]


def test_merged_config_dump_reloads_equal_after_cfg_options(tmp_path, dbnet):
    cfg = Config.fromfile(FIXTURES / "textdet" / "dbnet" / "dbnet_r18_toy.py",
                          cfg_options=["data.train.pipeline.1.mean=[0,0,0]",
                                       "model.backbone.out_indices=(1,2)"])
    cfg.dump(tmp_path / "final.py")
    back = Config.fromfile(tmp_path / "final.py")
    assert back == cfg and back.model.backbone.out_indices == (1, 2)
    assert back.data.train.pipeline[1].mean == [0, 0, 0]

"""Everything a user can get wrong in a config raises a one-line UserError that says where."""
import re
from pathlib import Path

import pytest

from ocr_ds.config import Config
from ocr_ds.errors import UserError


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load_error(path, **kwargs) -> str:
    with pytest.raises(UserError) as err:
        Config.fromfile(path, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


def test_file_not_found(tmp_path):
    missing = tmp_path / "nope.py"
    assert load_error(missing) == f"{missing}: config file not found"


def test_unsupported_extension(tmp_path):
    path = write(tmp_path, "cfg.txt", "a = 1\n")
    assert load_error(path) == (f"{path}: expected a config file ending in .py, .json, .yaml, "
                                f".yml (got '.txt')")


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "cfg.py", "a = 1\nmodel = dict(type='X'\nb = 2\n")
    message = load_error(path)
    assert message.startswith(f"{path}:2: syntax error in config: ")
    assert "never closed" in message


def test_runtime_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "cfg.py", "a = 1\n\nb = undefined_name + 1\n")
    assert load_error(path) == (f"{path}:3: error while running the config: NameError: name "
                                f"'undefined_name' is not defined")


@pytest.mark.parametrize("base", ["3", "['a.py', 3]", "dict(a='b.py')"])
def test_bad_base_type(tmp_path, base):
    path = write(tmp_path, "cfg.py", f"_base_ = {base}\n")
    assert load_error(path) == (f"{path}: _base_: expected a file path or a list of file paths "
                                f"(got {eval(base)!r})")


def test_missing_base_file_names_the_child(tmp_path):
    child = write(tmp_path, "sub/child.py", "_base_ = '../base/missing.py'\n")
    missing = tmp_path / "sub" / "../base/missing.py"
    assert load_error(child) == f"{missing}: config file not found (_base_ of {child})"


def test_circular_base(tmp_path):
    a = write(tmp_path, "a.py", "_base_ = 'b.py'\n")
    b = write(tmp_path, "b.py", "_base_ = ['./a.py']\n")
    message = load_error(a)
    assert message.endswith(f"circular _base_: {a} -> {b} -> {a}")


def test_self_base(tmp_path):
    a = write(tmp_path, "a.yaml", "_base_: a.yaml\n")
    assert "circular _base_: " in load_error(a)


def test_duplicate_key_among_bases(tmp_path):
    write(tmp_path, "a.py", "model = dict(type='A')\nx = 1\n")
    write(tmp_path, "b.yaml", "y: 2\nmodel: {type: B}\n")
    child = write(tmp_path, "c.py", "_base_ = ['a.py', 'b.yaml']\n")
    assert load_error(child) == ("Duplicate key is not allowed among bases: 'model' is in both "
                                 f"a.py and b.yaml (_base_ of {child})")


def test_dict_into_non_dict_suggests_delete(tmp_path):
    write(tmp_path, "base.py", "model = dict(backbone=dict(depth=18, frozen=[1, 2]))\n")
    child = write(tmp_path, "c.py", "_base_ = 'base.py'\n"
                                    "model = dict(backbone=dict(frozen=dict(stages=1)))\n")
    assert load_error(child) == (
        f"model.backbone.frozen: cannot merge a dict from {child} into the list [1, 2] of its "
        "_base_; set _delete_=True in that dict to replace the base value")


def test_unknown_base_reference(tmp_path):
    write(tmp_path, "base.py", "data = dict(train=dict(type='X'))\n")
    child = write(tmp_path, "c.py", "_base_ = 'base.py'\nx = {{ _base_.data.val.type }}\n")
    assert load_error(child) == (f"{child}: {{{{ _base_.data.val.type }}}}: the _base_ files "
                                 "have no key 'val' at data")
    child = write(tmp_path, "d.yaml", "_base_: base.py\nx: {{ _base_.nothing }}\n")
    assert load_error(child) == (f"{child}: {{{{ _base_.nothing }}}}: the _base_ files have no "
                                 "key 'nothing' at the top level")


def test_base_reference_without_base(tmp_path):
    path = write(tmp_path, "c.py", "x = {{ _base_.a }}\n")
    assert load_error(path) == f"{path}: uses {{{{ _base_.a }}}} but has no _base_ to take it from"


def test_base_reference_inside_a_string(tmp_path):
    write(tmp_path, "base.py", "a = 'A'\n")
    path = write(tmp_path, "c.py", "_base_ = 'base.py'\nx = 'pre_{{ _base_.a }}'\n")
    assert load_error(path) == (f"{path}: {{{{ _base_.a }}}} can only stand for a whole value "
                                "(e.g. `x = {{ _base_.a }}`), not part of one")


def test_base_reference_in_expression_with_computed_base_gets_a_hint(tmp_path):
    write(tmp_path, "base.py", "a = dict(k=1)\n")
    path = write(tmp_path, "c.py", "_base_ = 'base' + '.py'\nx = dict(**{{ _base_.a }})\n")
    message = load_error(path)
    assert message.startswith(f"{path}:2: error while running the config: TypeError: ")
    assert message.endswith("; with a computed _base_, {{ _base_.* }} can only stand for a "
                            "whole value, e.g. `x = {{ _base_.x }}`")


def test_invalid_json_and_yaml_name_the_line(tmp_path):
    path = write(tmp_path, "c.json", '{\n  "a": 1,\n  "b": \n}\n')
    assert load_error(path) == f"{path}:4: invalid JSON: Expecting value"
    path = write(tmp_path, "c.yaml", "a: 1\nb: [1, 2\nc: 3\n")
    assert re.fullmatch(re.escape(f"{path}:") + r"\d: invalid YAML: .+", load_error(path))


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "c.json", "[1, 2]")
    assert load_error(path) == f"{path}: expected a mapping of keys at the top level (got list)"


def test_reserved_key(tmp_path):
    path = write(tmp_path, "c.py", "filename = 'x'\n")
    assert load_error(path) == (f"{path}: 'filename' is a reserved name and cannot be a "
                                "top-level config key (reserved: filename, pretty_text)")


def test_bad_cfg_options_token_in_fromfile(tmp_path):
    path = write(tmp_path, "c.py", "a = 1\n")
    assert load_error(path, cfg_options=["a"]) == "--cfg-options: expected key=value (got 'a')"


LIST_CFG = {"data": {"samples_per_gpu": 16, "train": {"pipeline": [{"type": "A"}, {"type": "B"}]}}}


@pytest.mark.parametrize("options, message", [
    ({"data.train.pipeline.2.type": "X"},
     "cfg-options data.train.pipeline.2: index 2 is out of range; data.train.pipeline is a list "
     "of length 2"),
    ({"data.train.pipeline.first.type": "X"},
     "cfg-options data.train.pipeline.first: data.train.pipeline is a list, so expected an "
     "index 0..1 (got 'first')"),
    ({"data.samples_per_gpu.0": 1},
     "cfg-options data.samples_per_gpu.0: cannot index into data.samples_per_gpu: expected a "
     "dict or list there (got int 16)"),
    ({"data.train.pipeline.0.type.x": 1},
     "cfg-options data.train.pipeline.0.type.x: cannot index into data.train.pipeline.0.type: "
     "expected a dict or list there (got str 'A')"),
    ({"data": 1, "data.x": 2}, "cfg-options data.x: conflicts with option 'data' set to 1"),
    ({"filename": "x"}, "'filename' is a reserved name and cannot be a top-level config key"),
])
def test_bad_merge_from_dict(options, message):
    cfg = Config(LIST_CFG)
    with pytest.raises(UserError) as err:
        cfg.merge_from_dict(options)
    assert str(err.value).startswith(message)
    assert cfg == LIST_CFG  # a failed merge changes nothing


def test_dump_errors(tmp_path):
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'x.toml'}: expected a config "
                                                  "file ending in .py")):
        Config({"a": 1}).dump(tmp_path / "x.toml")
    with pytest.raises(UserError, match=re.escape(
            "model.s: cannot write a set value to a .py config; expected dict, list, tuple, str, "
            "int, float, bool or None")):
        Config({"model": {"s": {1}}}).dump(tmp_path / "x.py")
    with pytest.raises(UserError, match=re.escape(
            "'a-b': cannot be a top-level name in a .py config; expected a Python identifier")):
        Config({"a-b": 1}).pretty_text
    assert list(tmp_path.iterdir()) == []

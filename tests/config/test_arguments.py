"""Binding config dicts to constructors (ocr_ds/config/arguments.py): what is judged, what is
not, and relative key paths made full."""
from __future__ import annotations

from typing import Any, Literal, Mapping, Optional, Sequence

import pytest
import torch

from ocr_ds.config.arguments import check_arguments, expected, rewrite_key


class Part:
    def __init__(self, depth: int, widths: Sequence[int] = (1, 2), scale: float = 1.0,
                 name: str = "x", flag: bool = False, mode: Literal["a", "b"] = "a",
                 opt: Optional[int] = None, pair: tuple[int, str] = (1, "a"),
                 extra: Mapping = None, anything: Any = None, tensor: torch.Tensor | None = None,
                 unannotated=3):
        pass


class Open:
    def __init__(self, a: int = 1, **kwargs: Any):
        pass


@pytest.mark.parametrize("args,problems", [
    ({"depth": 18}, []),
    ({"depth": 18, "widths": [3, 4], "scale": 2, "name": "y", "flag": True, "mode": "b",
      "opt": None, "pair": [2, "b"], "extra": {"k": 1}, "anything": [object()], "unannotated": "s"},
     []),
    ({}, ["k.depth: required by Part (got nothing)"]),
    ({"depth": "18"}, ["k.depth: expected an integer (got '18')"]),
    ({"depth": 18.0}, ["k.depth: expected an integer (got 18.0)"]),
    ({"depth": True}, ["k.depth: expected an integer (got True)"]),
    ({"depth": 1, "widths": 3}, ["k.widths: expected a list (got 3)"]),
    ({"depth": 1, "widths": ["a"]}, ["k.widths: expected a list of integers (got ['a'])"]),
    ({"depth": 1, "scale": "big"}, ["k.scale: expected a number (got 'big')"]),
    ({"depth": 1, "flag": 1}, ["k.flag: expected True or False (got 1)"]),
    ({"depth": 1, "mode": "c"}, ["k.mode: expected one of 'a', 'b' (got 'c')"]),
    ({"depth": 1, "opt": "2"}, ["k.opt: expected an integer or None (got '2')"]),
    ({"depth": 1, "pair": [1]}, ["k.pair: expected a list of 2 values (got [1])"]),
    ({"depth": 1, "extra": [1]}, ["k.extra: expected a dict (got [1])"]),
    ({"depth": 1, "tensor": [1.0]}, ["k.tensor: expected a Tensor or None (got [1.0])"]),
    ({"depth": 1, "widht": 2}, ["k.widht: not an argument of Part; expected some of: depth, "
                                "widths, scale, name, flag, mode, opt, pair, extra, anything, "
                                "tensor, unannotated"]),
])
def test_check_arguments(args, problems):
    assert check_arguments(Part, args, "k") == problems


def test_kwargs_take_any_key_and_unjudged_hints_pass():
    assert check_arguments(Open, {"a": 2, "whatever": [1]}, "k") == []
    assert expected(Any, object()) is None and expected(Part, "x") is None


@pytest.mark.parametrize("message,key,cfg,rewritten", [
    ("backbone.depth: expected an integer", "model.backbone", {"type": "ResNet"},
     "model.backbone.depth: expected an integer"),
    ("datasets.0.type: unknown 'X'", "data.train", {"type": "ConcatDataset", "datasets": []},
     "data.train.datasets.0.type: unknown 'X'"),
    ("MultiScaleFlipAug.flip: not supported", "data.test.pipeline.1",
     {"type": "MultiScaleFlipAug", "flip": True}, "data.test.pipeline.1.flip: not supported"),
    ("MultiScaleFlipAug: expected one of", "data.val.pipeline.1", {"type": "MultiScaleFlipAug"},
     "data.val.pipeline.1: expected one of"),
    ("model.backbone.depth: already full", "model", {"type": "DBNet", "backbone": {}},
     "model.backbone.depth: already full"),
    ("/data/ann.txt: not UTF-8", "data.train", {"type": "OCRDataset", "ann_file": "x"},
     "/data/ann.txt: not UTF-8"),
    ("ann.txt:3: malformed", "data.train", {"type": "OCRDataset"}, "ann.txt:3: malformed"),
    ("img_prefix 'x' is not a directory", "data.train", {"img_prefix": "x"},
     "img_prefix 'x' is not a directory"),
])
def test_rewrite_key(message, key, cfg, rewritten):
    assert rewrite_key(message, key, cfg) == rewritten

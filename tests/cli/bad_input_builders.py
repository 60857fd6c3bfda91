"""Input builders of the bad-input matrix (test_bad_input_matrix.py, more_bad_inputs.py) and of
the checks that good inputs pass (test_input_checks.py): each writes what a case needs into
``d`` (``tmp/in``) and returns the command's arguments (or a path)."""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

FIX = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "engine")
TOY = os.path.join(FIX, "toy.py")
CLIP = os.path.join(FIX, "toy_clip_tb.py")
DBNET_ICDAR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "configs",
                           "textdet", "dbnet", "dbnet_r18_fpnc_1200e_icdar2015.py")

RECOG_PIPELINE = """[
    dict(type='LoadImageFromFile', color_type='grayscale'),
    dict(type='ResizeOCR', height=8, min_width=8, max_width=8, keep_aspect_ratio=False),
    dict(type='Normalize', mean=[127], std=[127]),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img'], meta_keys=['filename']),
]"""


def _write(path: Path, content: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def _png(path: Path) -> str:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 16), 200, np.uint8))
    return str(path)


def _config(d: Path, train: str, name: str = "cfg.py") -> str:
    """The toy config with ``data.train`` replaced by ``train`` (a Python expression)."""
    with open(TOY) as f:
        text = f.read()
    return _write(d / name, text + f"\ndata = dict(samples_per_gpu=2, workers_per_gpu=0, "
                                   f"train={train})\nevaluation = dict(interval=1)\n")


def recog(ann: str, img_prefix: str, parser: str = "LineStrParser", **extra: str) -> str:
    kw = "".join(f", {k}={v}" for k, v in extra.items())
    return (f"dict(type='OCRDataset', ann_file={ann!r}, img_prefix={img_prefix!r}, "
            f"loader=dict(type='AnnFileLoader', repeat=1, file_format='txt', "
            f"parser=dict(type={parser!r}, keys=['filename', 'text'])), "
            f"pipeline={RECOG_PIPELINE}{kw})")


def recog_case(lines: str | None, *, images: bool = True, prefix: str = "imgs",
               parser: str = "LineStrParser", **extra: str) -> Callable[[Path], list[str]]:
    """A train.py run on an OCRDataset whose annotation file holds ``lines`` (None: no file)."""
    def build(d: Path) -> list[str]:
        if images:
            (d / "imgs").mkdir(parents=True, exist_ok=True)
            _png(d / "imgs" / "a.png")
        ann = str(d / "ann.txt") if lines is None else _write(d / "ann.txt", lines)
        return [_config(d, recog(ann, str(d / prefix), parser, **extra))]
    return build


def det_case(coco: str | dict | None, prefix: str = "imgs") -> Callable[[Path], list[str]]:
    """A train.py run on an IcdarDataset reading ``coco`` (dict: dumped as JSON; str: raw)."""
    def build(d: Path) -> list[str]:
        (d / "imgs").mkdir(parents=True, exist_ok=True)
        _png(d / "imgs" / "a.png")
        text = coco if isinstance(coco, str) else json.dumps(coco)
        ann = _write(d / "coco.json", text)
        train = (f"dict(type='IcdarDataset', ann_file={ann!r}, img_prefix={str(d / prefix)!r}, "
                 f"pipeline=[dict(type='LoadImageFromFile')])")
        return [_config(d, train)]
    return build


GOOD_COCO = {"images": [{"id": 1, "file_name": "a.png", "width": 64, "height": 64}],
             "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 1, 10, 10], "iscrowd": 0,
                              "segmentation": [[1, 1, 11, 1, 11, 11, 1, 11]]}],
             "categories": [{"id": 1, "name": "text"}]}


def lmdb_without_count(d: Path) -> list[str]:
    import lmdb

    env = lmdb.open(str(d / "lmdb"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"label-000000001", b"a.png hello")
    env.close()
    train = (f"dict(type='OCRDataset', ann_file={str(d / 'lmdb')!r}, img_prefix='', "
             f"loader=dict(type='AnnFileLoader', file_format='lmdb', "
             f"parser=dict(type='LineJsonParser', keys=['filename', 'text'])), "
             f"pipeline={RECOG_PIPELINE})")
    return [_config(d, train)]


def ckpt_file(kind: str) -> Callable[[Path], str]:
    """A checkpoint file of some ``kind``; returns its path."""
    def build(d: Path) -> str:
        d.mkdir(parents=True, exist_ok=True)
        path = d / "ckpt.pth"
        good = {"state_dict": {"w": torch.ones(2)}, "meta": {}}
        if kind == "truncated":
            torch.save(good, path)
            path.write_bytes(path.read_bytes()[:200])
        elif kind == "garbage":
            path.write_bytes(b"this is not a checkpoint")
        elif kind == "foreign":  # mmcv-style: numpy objects in meta
            torch.save({"state_dict": {"w": torch.ones(2)},
                        "meta": {"lr": np.float64(0.1), "shape": np.zeros(2)}}, path)
        elif kind == "not-a-dir":
            path = d / "dir"
            path.mkdir()
            _write(path / "notes.txt", "hello")
        elif kind == "latest-missing":
            path = d / "run"
            path.mkdir()
            _write(path / "latest", "epoch_9")
        return str(path)
    return build


def train_flag(flag: str, make: Callable[[Path], str], extra: tuple[str, ...] = ()):
    return lambda d: [TOY, flag, make(d), *extra]


def tool_ckpt(make: Callable[[Path], str], *rest: str):
    return lambda d: [make(d), *(r.format(d=d) for r in rest)]


def mc_case(text: str | None, config: str | None = None):
    def build(d: Path) -> list[str]:
        mc = str(d / "mc.py") if text is None else _write(d / "mc.py", text)
        cfg = config(d) if callable(config) else (config or TOY)
        return [cfg, "--mc-config", mc]
    return build


def recog_cfg(d: Path) -> str:
    return recog_case("a.png hello\n")(d)[0]


def hostfile(text: str | None):
    return lambda d: [str(d / "hosts") if text is None else _write(d / "hosts", text)]


def cfg_file(text: str):
    return lambda d: [_write(d / "cfg.py", text)]


def plain(*argv: str):
    return lambda d: list(argv)


def opts(*tokens: str, config: str = TOY):
    """train.py on ``config`` with these ``--cfg-options`` tokens."""
    return plain(config, "--cfg-options", *tokens)

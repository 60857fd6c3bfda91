"""Detect text in images with a trained detector; write polygons (JSON) and a drawing (PNG).

::

    python -m ocr_ds.tools.infer_det CHECKPOINT IMAGE [IMAGE ...] --out-dir DIR [--config CFG]

CHECKPOINT is an exported ``.pth`` (``{'state_dict': ..., 'meta': {'config': ...}}``), a plain
state dict (then ``--config`` is required) or one of our DeepSpeed checkpoint directories. The
model and the test pipeline (``data.test``) come from ``--config`` if given, else from the
config saved in the checkpoint. For each image, ``DIR/<name>.json`` holds
``{"filename", "boundaries": [{"points": [[x, y], ...], "score"}]}`` in image pixels and
``DIR/<name>.png`` the image with the polygons drawn.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping, Sequence

import cv2
import numpy as np
import torch

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli
from ocr_ds.extend import import_custom_modules
from ocr_ds.tools._infer_common import (build_with_weights, load_weights, read_images,
                                        strip_pretrained, test_pipeline, torch_device)

# used when the config has no test pipeline (a checkpoint of a bare model)
DEFAULT_TEST_PIPELINE = [
    dict(type="LoadImageFromFile"),
    dict(type="MultiScaleFlipAug", img_scale=(1333, 736), flip=False, transforms=[
        dict(type="Resize", keep_ratio=True),
        dict(type="Normalize", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
             to_rgb=True),
        dict(type="Pad", size_divisor=32),
        dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])]),
]


def build_detector(cfg: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    if "model" not in cfg:
        raise UserError("config: no 'model' to build")
    return build_with_weights(strip_pretrained(cfg["model"]), state)


def draw(img: np.ndarray, boundaries: list[dict]) -> np.ndarray:
    out = img.copy()
    for b in boundaries:
        pts = np.round(np.asarray(b["points"])).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [pts], True, (0, 255, 0), 2, cv2.LINE_AA)
        x, y = pts.reshape(-1, 2).min(axis=0)
        cv2.putText(out, f"{b['score']:.2f}", (int(x), max(int(y) - 3, 10)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1, cv2.LINE_AA)
    return out


def infer(model: torch.nn.Module, pipeline: Any, path: str, device: torch.device,
          score_thr: float) -> list[dict]:
    from ocr_ds.datasets.collate import collate

    results = dict(img_info=dict(filename=path), img_prefix=None, bbox_fields=[],
                   mask_fields=[], seg_fields=[])
    sample = pipeline(results)
    batch = collate([sample])
    batch["img"] = batch["img"].to(device)
    with torch.no_grad():
        pred = model(batch, return_loss=False)[0]
    out = []
    for b in pred["boundary_result"]:
        if b[-1] >= score_thr:
            out.append(dict(points=np.asarray(b[:-1], float).reshape(-1, 2).round(2).tolist(),
                            score=round(float(b[-1]), 4)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(prog="python -m ocr_ds.tools.infer_det",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", help=".pth file or checkpoint directory")
    parser.add_argument("images", nargs="+", help="image files")
    parser.add_argument("--out-dir", required=True, help="where the JSON and PNG files go")
    add_unsafe_pickle_flag(parser)
    parser.add_argument("--config", help="config file (default: the one in the checkpoint)")
    parser.add_argument("--score-thr", type=float, default=0.3,
                        help="keep boundaries scoring at least this (0.3)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu)")
    args = parser.parse_args(argv)

    state, meta = load_weights(args.checkpoint, args.allow_unsafe_pickle)
    if args.config:
        from ocr_ds.config import Config

        cfg = Config.fromfile(args.config).to_dict() if hasattr(Config, "to_dict") else \
            dict(Config.fromfile(args.config))
    elif isinstance(meta.get("config"), Mapping):
        cfg = dict(meta["config"])
        import_custom_modules(cfg)
    else:
        raise UserError(f"{args.checkpoint}: holds no config; give --config")
    from ocr_ds.datasets.pipelines.compose import Compose
    from ocr_ds.outputs import check_dir_creatable

    device = torch_device(args.device)
    images = read_images(args.images)
    check_dir_creatable(args.out_dir, "--out-dir")
    model = build_detector(cfg, state).to(device)
    pipeline = Compose(test_pipeline(cfg, DEFAULT_TEST_PIPELINE), "data.test.pipeline")
    os.makedirs(args.out_dir, exist_ok=True)
    used: set[str] = set()
    for path, img in zip(args.images, images):
        boundaries = infer(model, pipeline, path, device, args.score_thr)
        stem = os.path.splitext(os.path.basename(path))[0]
        name, n = stem, 1
        while name in used:  # two inputs with one file name: keep both outputs
            n += 1
            name = f"{stem}_{n}"
        used.add(name)
        with open(os.path.join(args.out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
            json.dump(dict(filename=path, boundaries=boundaries), f)
        cv2.imwrite(os.path.join(args.out_dir, f"{name}.png"), draw(img, boundaries))
        print(f"{path}: {len(boundaries)} text regions -> {args.out_dir}/{name}.json, .png")
    return 0


if __name__ == "__main__":
    run_cli(main)

"""Recognise the text of word crops with a trained recogniser.

::

    python -m ocr_ds.tools.infer_recog CHECKPOINT IMAGE [IMAGE ...] [--config CFG] [--device cpu]

Prints ``IMAGE<TAB>TEXT<TAB>SCORE`` per crop (score: mean character confidence, 4 decimals).
CHECKPOINT is an exported ``.pth`` (``{'state_dict': ..., 'meta': {'config': ...}}``), a plain
state dict (then ``--config`` is required) or one of our DeepSpeed checkpoint directories. The
model and the test pipeline come from ``--config`` if given, else from the config saved in the
checkpoint. A missing or undecodable image is a one-line error (exit 2) before anything is
printed, as in ``infer_det``.
"""
from __future__ import annotations

import sys
from typing import Any, Mapping, Sequence

import torch

from ocr_ds.errors import CliParser, UserError, add_unsafe_pickle_flag, run_cli
from ocr_ds.extend import import_custom_modules
from ocr_ds.tools._infer_common import (build_with_weights, load_weights, read_images,
                                        test_pipeline, torch_device)

# the CRNN test pipeline, used when the config has none
DEFAULT_TEST_PIPELINE = [
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="ResizeOCR", height=32, min_width=32, max_width=None, keep_aspect_ratio=True),
    dict(type="Normalize", mean=[127], std=[127]),
    dict(type="DefaultFormatBundle"),
    dict(type="Collect", keys=["img"], meta_keys=["filename", "resize_shape", "valid_ratio"]),
]


def build_recognizer(cfg: Mapping[str, Any], state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    if "model" not in cfg:
        raise UserError("config: no 'model' to build")
    return build_with_weights(cfg["model"], state)


def recognise(model: torch.nn.Module, pipeline: Any, path: str,
              device: torch.device) -> dict[str, Any]:
    """The model's ``{'text', 'score', ...}`` for the crop at ``path``."""
    from ocr_ds.datasets.collate import collate

    sample = pipeline(dict(img_info=dict(filename=path), img_prefix=None))
    batch = collate([sample])
    batch["img"] = batch["img"].to(device)
    with torch.no_grad():
        return model(batch, return_loss=False)[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(
        prog="python -m ocr_ds.tools.infer_recog",
        description="Print IMAGE<TAB>TEXT<TAB>SCORE for each word crop.")
    parser.add_argument("checkpoint", help="exported .pth, state dict or checkpoint directory")
    parser.add_argument("images", nargs="+", help="word crop image files")
    add_unsafe_pickle_flag(parser)
    parser.add_argument("--config", help="config file (default: the one in the checkpoint)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu)")
    args = parser.parse_args(argv)

    from ocr_ds.datasets.invalid import InvalidSample
    from ocr_ds.datasets.pipelines import Compose

    state, meta = load_weights(args.checkpoint, args.allow_unsafe_pickle)
    if args.config:
        from ocr_ds.config import Config

        cfg: Mapping[str, Any] = Config.fromfile(args.config)
    elif isinstance(meta.get("config"), Mapping):
        cfg = meta["config"]
        import_custom_modules(cfg)
    else:
        raise UserError(f"{args.checkpoint}: holds no config; pass --config")
    device = torch_device(args.device)
    read_images(args.images)  # all of them exist and decode, before the first line is printed
    model = build_recognizer(cfg, state).to(device)
    pipeline = Compose(test_pipeline(cfg, DEFAULT_TEST_PIPELINE), key="data.test.pipeline")
    status = 0
    for path in args.images:
        try:
            pred = recognise(model, pipeline, path, device)
        except InvalidSample as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)
            status = 1
            continue
        print(f"{path}\t{pred['text']}\t{pred['score']:.4f}", flush=True)
    return status


if __name__ == "__main__":
    run_cli(main)

"""What the inference tools share: reading weights and finding a config's test pipeline."""
from __future__ import annotations

import copy
import os
from typing import Any, Mapping, Sequence

import torch

from ocr_ds.checkpoint_io import load_checkpoint_any as load_weights  # noqa: F401  (re-export)
from ocr_ds.checkpoint_io import match_state_dict
from ocr_ds.errors import UserError


def test_pipeline(cfg: Mapping[str, Any], default: Sequence[dict]) -> list[dict]:
    """``data.test`` (or ``data.val``) pipeline, or that of its first member dataset, else ``default``."""
    data = cfg.get("data") or {}
    for split in ("test", "val"):
        spec = data.get(split)
        if isinstance(spec, Mapping):
            if spec.get("pipeline"):
                return copy.deepcopy(list(spec["pipeline"]))
            for member in spec.get("datasets") or []:
                if isinstance(member, Mapping) and member.get("pipeline"):
                    return copy.deepcopy(list(member["pipeline"]))
    return copy.deepcopy(list(default))


def strip_pretrained(model_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The model config without backbone pre-training (the checkpoint replaces it anyway)."""
    cfg = copy.deepcopy(dict(model_cfg))
    cfg.pop("pretrained", None)
    if isinstance(cfg.get("backbone"), Mapping):
        cfg["backbone"] = dict(cfg["backbone"])
        cfg["backbone"].pop("pretrained", None)
        if "init_cfg" in cfg["backbone"]:  # a user's backbone may take no init_cfg at all
            cfg["backbone"]["init_cfg"] = None
    return cfg


def build_with_weights(model_cfg: Any, state: Mapping[str, torch.Tensor],
                       source: str = "checkpoint") -> torch.nn.Module:
    """The config's model with the checkpoint's weights, in eval mode; every tensor must be
    there, in the model's shape (``source`` names the checkpoint in errors)."""
    from ocr_ds import registry

    model = registry.build(registry.MODELS, model_cfg, "model")
    match = match_state_dict(model, state)      # earlier ocr_ds names renamed to MMOCR's
    absent = match.missing + [k for k, _, _ in match.mismatched]
    if absent:
        raise UserError(f"{source}: {len(absent)} model tensors missing or of another shape, "
                        f"e.g. {absent[:3]} (does the config match the checkpoint?)")
    model.load_state_dict(match.loadable, strict=False)
    return model.eval()


def read_images(paths: Sequence[str], flags: int | None = None) -> list[Any]:
    """Every image file named on the command line, decoded (OpenCV's ``IMREAD_COLOR`` unless
    ``flags``), checked before anything is written: a missing or undecodable one is a one-line
    error (decoded from bytes: ``cv2.imread`` would print a warning of its own first)."""
    import cv2
    import numpy as np

    images = []
    for path in paths:
        if not os.path.isfile(path):
            raise UserError(f"{path}: no such image file")
        img = cv2.imdecode(np.fromfile(path, np.uint8),
                           cv2.IMREAD_COLOR if flags is None else flags)
        if img is None:
            raise UserError(f"{path}: not a readable image (OpenCV cannot decode it)")
        images.append(img)
    return images


def torch_device(name: str) -> torch.device:
    """``--device``: a torch device name, as a one-line error when torch does not know it."""
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"--device: {exc}") from None


def device_or_cpu(name: str) -> torch.device:
    """``--device`` as :func:`torch_device`, but the CPU where it names CUDA and torch sees no GPU
    (MMOCR's scripts default to ``cuda:0``; ours run those defaults on a CPU-only machine)."""
    device = torch_device(name)
    return device if device.type != "cuda" or torch.cuda.is_available() else torch.device("cpu")

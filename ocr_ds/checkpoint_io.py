"""Read weights from anything we write: an exported ``.pth``, a plain state dict, or one of our
DeepSpeed checkpoint directories (any ZeRO stage). Used by ``--load-from``, inference and export.

Returns ``(state_dict, meta)``; ``meta`` holds at least the training config when we wrote the
file (``meta['config']``). Our own ``.pth`` files load with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Any

import torch

from ocr_ds.errors import UserError

META = "ocr_ds_meta.json"


def strip_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix DDP/DeepSpeed wrappers leave on parameter names."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def _from_pth(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is the user's file
        raise UserError(f"{path}: not a weights-only PyTorch checkpoint "
                        f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]})") from None
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        return obj["state_dict"], dict(obj.get("meta") or {})
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, {}
    raise UserError(f"{path}: expected a state dict or {{'state_dict': ..., 'meta': ...}}")


def _resolve_dir(path: str) -> str:
    """A checkpoint root holding ``latest`` -> the tag directory it names."""
    latest = os.path.join(path, "latest")
    if os.path.isfile(latest) and not os.path.isfile(os.path.join(path, META)):
        with open(latest) as f:
            return os.path.join(path, f.read().strip())
    return path


def _from_deepspeed_dir(path: str) -> dict[str, torch.Tensor]:
    zero_files = glob.glob(os.path.join(path, "*zero_pp_rank_*optim_states.pt"))
    if zero_files:
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

        root, tag = os.path.split(os.path.normpath(path))
        return get_fp32_state_dict_from_zero_checkpoint(root or ".", tag=tag)
    model_file = os.path.join(path, "mp_rank_00_model_states.pt")
    if not os.path.isfile(model_file):
        raise UserError(f"{path}: not a checkpoint directory (no model.pth, "
                        "mp_rank_00_model_states.pt or ZeRO files)")
    state = torch.load(model_file, map_location="cpu", weights_only=True)
    return state["module"]


def load_checkpoint_any(path: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights and metadata from a ``.pth`` file or a checkpoint directory."""
    if not os.path.exists(path):
        raise UserError(f"checkpoint {path!r} does not exist")
    if os.path.isfile(path):
        return _from_pth(path)
    path = _resolve_dir(path)
    if os.path.isfile(os.path.join(path, "model.pth")):
        return _from_pth(os.path.join(path, "model.pth"))
    meta: dict[str, Any] = {}
    if os.path.isfile(os.path.join(path, META)):
        with open(os.path.join(path, META)) as f:
            meta = json.load(f)
    state = _from_deepspeed_dir(path)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    return state, meta

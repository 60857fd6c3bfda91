"""What the inference tools share: reading weights and finding a config's test pipeline."""
from __future__ import annotations

import copy
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


def build_with_weights(model_cfg: Any, state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """The config's model with the checkpoint's weights, in eval mode; every tensor must be there."""
    from ocr_ds import registry

    model = registry.build(registry.MODELS, model_cfg, "model")
    match = match_state_dict(model, state)      # earlier ocr_ds names renamed to MMOCR's
    absent = match.missing + [k for k, _, _ in match.mismatched]
    if absent:
        raise UserError(f"checkpoint: {len(absent)} model tensors missing or of another shape, "
                        f"e.g. {absent[:3]} (does the config match the checkpoint?)")
    model.load_state_dict(match.loadable, strict=False)
    return model.eval()

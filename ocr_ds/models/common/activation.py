"""Activation layers named by ``act_cfg`` dicts (mmcv's ``build_activation_layer``).

``act_cfg=dict(type='ReLU'|'LeakyReLU'|'GELU'|..., **layer_args)``; the names are
:data:`ocr_ds.registry.ACTIVATIONS` (torch's classes under mmcv's names).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError


def build_activation_layer(act_cfg: Mapping[str, Any], key: str = "act_cfg") -> nn.Module:
    if not isinstance(act_cfg, Mapping) or "type" not in act_cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {act_cfg!r})")
    args = dict(act_cfg)
    kind = args.pop("type")
    cls = registry.resolve(registry.ACTIVATIONS, kind, f"{key}.type")
    try:
        return cls(**args)
    except TypeError as exc:
        raise UserError(f"{key}: {kind}: {exc}") from None

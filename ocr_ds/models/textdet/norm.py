"""Normalisation layers named by ``norm_cfg`` dicts, as mmcv's ``build_norm_layer`` reads them.

``norm_cfg=dict(type='BN'|'SyncBN'|'GN', requires_grad=True, **layer_args)``.

``SyncBN`` (what MMOCR's PSENet configs ask for) builds :class:`SyncBatchNorm2d`, torch's
``SyncBatchNorm`` with one change: on CPU inputs it normalises per rank like plain BN, because
torch has no CPU kernel for synchronised statistics (its own class raises there). On GPU ranks
under a process group the statistics are synchronised across ranks, as in MMOCR. DeepSpeed
itself never converts BN layers; this is the only place where SyncBN happens. The parameter and
buffer names are those of ``BatchNorm2d``, so checkpoints move freely between BN and SyncBN.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds.errors import UserError


class SyncBatchNorm2d(nn.SyncBatchNorm):
    """``nn.SyncBatchNorm`` that falls back to per-rank statistics on CPU tensors."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 (torch's name)
        if input.device.type == "cpu":
            return nn.modules.batchnorm._BatchNorm.forward(self, input)
        return super().forward(input)


def build_norm(norm_cfg: Mapping[str, Any] | None, num_features: int,
               key: str = "norm_cfg") -> nn.Module:
    """Build the 2-d normalisation layer ``norm_cfg`` names, for ``num_features`` channels."""
    if norm_cfg is None:
        return nn.Identity()
    if not isinstance(norm_cfg, Mapping) or "type" not in norm_cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {norm_cfg!r})")
    args = dict(norm_cfg)
    kind = args.pop("type")
    requires_grad = bool(args.pop("requires_grad", True))
    if kind in ("BN", "BN2d"):
        layer: nn.Module = nn.BatchNorm2d(num_features, **args)
    elif kind in ("SyncBN", "MMSyncBN"):
        layer = SyncBatchNorm2d(num_features, **args)
    elif kind == "GN":
        if "num_groups" not in args:
            raise UserError(f"{key}.num_groups: expected an int for GN (got nothing)")
        layer = nn.GroupNorm(num_channels=num_features, **args)
    else:
        raise UserError(f"{key}.type: expected one of BN, SyncBN, GN (got {kind!r})")
    for p in layer.parameters():
        p.requires_grad = requires_grad
    return layer


def is_norm(module: nn.Module) -> bool:
    """True for the layers :func:`build_norm` makes (BN, SyncBN, GN)."""
    return isinstance(module, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm))

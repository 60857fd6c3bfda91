"""Normalisation layers named by ``norm_cfg`` dicts, as mmcv's ``build_norm_layer`` reads them.

``norm_cfg=dict(type='BN'|'BN1d'|'BN2d'|'BN3d'|'SyncBN'|'GN'|'LN'|'IN'|..., requires_grad=True,
**layer_args)``; the names are :data:`ocr_ds.registry.NORM_LAYERS`.
:func:`build_norm_layer` also returns mmcv's child name for the layer (``bn``, ``gn``, ``ln``,
``in`` + a postfix), which is what puts ``neck.lateral_convs.0.bn.weight`` into a state dict.

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

from ocr_ds import registry
from ocr_ds.errors import UserError


class SyncBatchNorm2d(nn.SyncBatchNorm):
    """``nn.SyncBatchNorm`` that falls back to per-rank statistics on CPU tensors."""

    def forward(self, input: torch.Tensor) -> torch.Tensor:  # noqa: A002 (torch's name)
        if input.device.type == "cpu":
            return nn.modules.batchnorm._BatchNorm.forward(self, input)
        return super().forward(input)


def norm_abbr(layer_cls: type) -> str:
    """mmcv's ``infer_abbr``: the child-name stem of a norm layer class."""
    if hasattr(layer_cls, "_abbr_"):
        return layer_cls._abbr_
    if issubclass(layer_cls, nn.modules.instancenorm._InstanceNorm):
        return "in"
    if issubclass(layer_cls, nn.modules.batchnorm._BatchNorm):
        return "bn"
    if issubclass(layer_cls, nn.GroupNorm):
        return "gn"
    if issubclass(layer_cls, nn.LayerNorm):
        return "ln"
    name = layer_cls.__name__.lower()
    for stem, abbr in (("batch", "bn"), ("group", "gn"), ("layer", "ln"), ("instance", "in")):
        if stem in name:
            return abbr
    return "norm_layer"


def build_norm_layer(norm_cfg: Mapping[str, Any], num_features: int, postfix: int | str = "",
                     key: str = "norm_cfg") -> tuple[str, nn.Module]:
    """``(child name, layer)`` for ``norm_cfg``, e.g. ``('bn1', BatchNorm2d(64))``."""
    if not isinstance(norm_cfg, Mapping) or "type" not in norm_cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {norm_cfg!r})")
    args = dict(norm_cfg)
    kind = args.pop("type")
    cls = registry.resolve(registry.NORM_LAYERS, kind, f"{key}.type")
    requires_grad = args.pop("requires_grad", True)
    args.setdefault("eps", 1e-5)
    if cls is nn.GroupNorm:
        if "num_groups" not in args:
            raise UserError(f"{key}.num_groups: expected an int for GN (got nothing)")
        layer: nn.Module = nn.GroupNorm(num_channels=num_features, **args)
    else:
        try:
            layer = cls(num_features, **args)
        except TypeError as exc:
            raise UserError(f"{key}: {kind}: {exc}") from None
    for p in layer.parameters():
        p.requires_grad = bool(requires_grad)
    return f"{norm_abbr(cls)}{postfix}", layer


def build_norm(norm_cfg: Mapping[str, Any] | None, num_features: int,
               key: str = "norm_cfg") -> nn.Module:
    """Only the layer of :func:`build_norm_layer`; ``None`` gives ``nn.Identity``."""
    if norm_cfg is None:
        return nn.Identity()
    return build_norm_layer(norm_cfg, num_features, key=key)[1]


def is_norm(module: nn.Module) -> bool:
    """True for the normalisation layers (batch, group, layer and instance norms)."""
    return isinstance(module, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
                               nn.modules.instancenorm._InstanceNorm))

"""Plugin layers named by ``plugins=[dict(cfg=dict(type=...), position=...)]`` (mmcv's
``build_plugin_layer``): the names are :data:`ocr_ds.registry.PLUGIN_LAYERS`.

The child name is mmcv's: the class's ``_abbr_`` if it has one, else its name in snake case
(``GCAModule`` -> ``gca_module``), plus the postfix -- it is part of the state-dict keys.

A plugin class reports a bad argument with a ``ValueError`` whose message starts with the
argument's name (``"n_head: expected ..."``); it becomes a one-line config error under the
plugin's key path (``model.backbone.block_cfgs.plugins.cfg.n_head: expected ...``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError


def camel_to_snake(word: str) -> str:
    """mmcv's ``camel2snack``: ``'GCAModule'`` -> ``'gca_module'``."""
    word = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", word)
    word = re.sub(r"([a-z\d])([A-Z])", r"\1_\2", word)
    return word.replace("-", "_").lower()


def build_plugin_layer(cfg: Mapping[str, Any], postfix: int | str = "", key: str = "plugins",
                       **kwargs: Any) -> tuple[str, nn.Module]:
    """``(child name, layer)`` for a plugin ``cfg`` built with ``kwargs`` (e.g. in_channels)."""
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {cfg!r})")
    args = dict(cfg)
    kind = args.pop("type")
    cls = registry.resolve(registry.PLUGIN_LAYERS, kind, f"{key}.type")
    abbr = getattr(cls, "_abbr_", None) or camel_to_snake(cls.__name__)
    try:
        layer = cls(**kwargs, **args)
    except TypeError as exc:
        raise UserError(f"{key}: {kind}: {exc}") from None
    except ValueError as exc:
        raise UserError(f"{key}.{exc}") from None
    return f"{abbr}{postfix}", layer

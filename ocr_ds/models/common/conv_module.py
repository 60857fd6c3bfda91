"""``ConvModule``: conv -> norm -> activation, as mmcv 1.x builds it (names, init, order).

The children are named as mmcv names them -- ``conv``, the norm under its abbreviation
(``bn``, ``gn``, ``ln``, ``in``) and ``activate`` (no parameters) -- so every model built from
ConvModules has MMOCR's state-dict keys (``neck.lateral_convs.0.conv.weight``,
``neck.lateral_convs.0.bn.running_mean``). Its own ``init_weights`` (Kaiming normal, fan_out,
for the conv unless the conv layer initialises itself; 1/0 for the norm) runs at construction
and again when a parent's ``init_weights`` walk reaches it: see :mod:`.base` for why that
decides MMOCR's effective initialisation.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.activation import build_activation_layer
from ocr_ds.models.common.init import constant_init, kaiming_init
from ocr_ds.models.common.norm import build_norm_layer

# activations that take no ``inplace`` argument in mmcv's ConvModule
_NO_INPLACE = ("Tanh", "PReLU", "Sigmoid", "HSigmoid", "Swish", "GELU")


def build_conv_layer(conv_cfg: Mapping[str, Any] | None, *args: Any, key: str = "conv_cfg",
                     **kwargs: Any) -> nn.Module:
    """The conv layer ``conv_cfg`` names (``None``: ``nn.Conv2d``), built with ``args``."""
    if conv_cfg is None:
        cfg: dict[str, Any] = {"type": "Conv2d"}
    elif isinstance(conv_cfg, Mapping) and "type" in conv_cfg:
        cfg = dict(conv_cfg)
    else:
        raise UserError(f"{key}: expected None or a dict with a 'type' key (got {conv_cfg!r})")
    kind = cfg.pop("type")
    cls = registry.resolve(registry.CONV_LAYERS, kind, f"{key}.type")
    try:
        return cls(*args, **kwargs, **cfg)
    except TypeError as exc:
        raise UserError(f"{key}: {kind}: {exc}") from None


class ConvModule(nn.Module):
    """mmcv's ``ConvModule`` (a plain ``nn.Module`` with its own ``init_weights``).

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups: as
            ``nn.Conv2d``.
        bias: True/False, or 'auto' (a bias exactly when there is no norm). Defaults to 'auto'.
        conv_cfg: The conv layer (``None``: ``nn.Conv2d``). Defaults to None.
        norm_cfg: The norm layer, or None for none. Defaults to None.
        act_cfg: The activation, or None for none. Defaults to ``dict(type='ReLU')``.
        inplace: In-place activation where the activation takes the argument. Defaults to True.
        order: The order of 'conv', 'norm', 'act'. Defaults to ('conv', 'norm', 'act').
    """

    _abbr_ = "conv_block"   # mmcv's: its name as a plugin (``conv_block_after_stage_1``)

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple,
                 stride: int | tuple = 1, padding: int | tuple = 0,
                 dilation: int | tuple = 1, groups: int = 1, bias: bool | str = "auto",
                 conv_cfg: Mapping | None = None, norm_cfg: Mapping | None = None,
                 act_cfg: Mapping | None = {"type": "ReLU"}, inplace: bool = True,  # noqa: B006
                 order: tuple = ("conv", "norm", "act")):
        super().__init__()
        if not isinstance(order, tuple) or sorted(order) != ["act", "conv", "norm"]:
            raise UserError(f"order: expected a permutation of ('conv', 'norm', 'act') "
                            f"(got {order!r})")
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.inplace = inplace
        self.order = order
        self.with_norm = norm_cfg is not None
        self.with_activation = act_cfg is not None
        if bias == "auto":
            bias = not self.with_norm
        self.with_bias = bias
        self.conv = build_conv_layer(conv_cfg, in_channels, out_channels, kernel_size,
                                     stride=stride, padding=padding, dilation=dilation,
                                     groups=groups, bias=bias)
        self.in_channels = self.conv.in_channels
        self.out_channels = self.conv.out_channels
        self.kernel_size = self.conv.kernel_size
        self.stride = self.conv.stride
        self.padding = padding
        self.dilation = self.conv.dilation
        self.groups = self.conv.groups
        if self.with_norm:
            channels = out_channels if order.index("norm") > order.index("conv") else in_channels
            self.norm_name, norm = build_norm_layer(norm_cfg, channels)
            self.add_module(self.norm_name, norm)
        else:
            self.norm_name = None
        if self.with_activation:
            act = dict(act_cfg)
            if act["type"] not in _NO_INPLACE:
                act.setdefault("inplace", inplace)
            self.activate = build_activation_layer(act)
        self.init_weights()

    @property
    def norm(self) -> nn.Module | None:
        return getattr(self, self.norm_name) if self.norm_name else None

    def init_weights(self) -> None:
        if not hasattr(self.conv, "init_weights"):
            if self.with_activation and self.act_cfg["type"] == "LeakyReLU":
                nonlinearity, a = "leaky_relu", self.act_cfg.get("negative_slope", 0.01)
            else:
                nonlinearity, a = "relu", 0
            kaiming_init(self.conv, a=a, nonlinearity=nonlinearity)
        if self.with_norm:
            constant_init(self.norm, 1, bias=0)

    def forward(self, x: torch.Tensor, activate: bool = True, norm: bool = True
                ) -> torch.Tensor:
        for layer in self.order:
            if layer == "conv":
                x = self.conv(x)
            elif layer == "norm" and norm and self.with_norm:
                x = self.norm(x)
            elif layer == "act" and activate and self.with_activation:
                x = self.activate(x)
        return x

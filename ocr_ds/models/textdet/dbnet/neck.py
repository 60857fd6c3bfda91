"""``FPNC``: DBNet's feature-pyramid neck, and DBNet++'s adaptive scale fusion (``asf_cfg``).

The backbone's C2..C5 maps go through 1x1 lateral ConvModules, a top-down pathway of nearest
upsampling + sums, and a 3x3 smoothing ConvModule per level; every level is upsampled to the
C2 resolution (1/4 of the input) and concatenated. With ``asf_cfg=dict(attention_type=
'ScaleChannelSpatial')`` (DBNet++) a 3x3 conv and :class:`ScaleChannelSpatialAttention` weigh
each level by a learned per-pixel attention before the concatenation.

Module tree and initialisation are MMOCR 0.6.3's: ``lateral_convs.0.conv.weight``,
``smooth_convs.3.bn.running_mean`` (with ``bn_re_on_*``), ``asf_conv.conv.weight``,
``asf_attn.channel_wise.0.conv.weight``, ... The ``init_cfg`` MMOCR gives (``layer='Conv'``,
``'BatchNorm'``) names no class, so it does nothing: every conv is a ConvModule that initialises
itself (Kaiming normal, fan_out; BN 1/0), which is what MMOCR's models get too.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList, Sequential
from ocr_ds.models.common.conv_module import ConvModule

_KEY = "model.neck"


def _conv(cin: int, cout: int, k: int, bias: bool | str = "auto", with_bn_relu: bool = False,
          act: str | None = None) -> ConvModule:
    """A ConvModule as FPNC builds them: padding k//2, never in place; BN + ReLU, or only the
    activation ``act``, or neither."""
    if with_bn_relu:
        norm_cfg, act_cfg = dict(type="BN"), dict(type="ReLU")
    else:
        norm_cfg, act_cfg = None, (dict(type=act) if act else None)
    return ConvModule(cin, cout, k, padding=k // 2, bias=bias, conv_cfg=None,
                      norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False)


class FPNC(BaseModule):
    """DBNet's FPN. Args (MMOCR's, with its defaults): in_channels (list), lateral_channels=256,
    out_channels=64 (per level; the output has ``out_channels * len(in_channels)``),
    bias_on_lateral=False, bn_re_on_lateral=False, bias_on_smooth=False,
    bn_re_on_smooth=False, asf_cfg=None (``dict(attention_type='ScaleChannelSpatial')`` for
    DBNet++), conv_after_concat=False (one more 3x3 conv + BN + ReLU), init_cfg."""

    def __init__(self, in_channels: Sequence[int], lateral_channels: int = 256,
                 out_channels: int = 64, bias_on_lateral: bool = False,
                 bn_re_on_lateral: bool = False, bias_on_smooth: bool = False,
                 bn_re_on_smooth: bool = False, asf_cfg: Mapping | None = None,
                 conv_after_concat: bool = False,
                 init_cfg: Any = [dict(type="Kaiming", layer="Conv"),  # noqa: B006
                                  dict(type="Constant", layer="BatchNorm", val=1.0,
                                       bias=1e-4)]):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, list) or not all(
                isinstance(c, int) and c > 0 for c in in_channels):
            raise UserError(f"{_KEY}.in_channels: expected a list of positive ints "
                            f"(got {in_channels!r})")
        if asf_cfg is not None and (not isinstance(asf_cfg, Mapping) or
                                    asf_cfg.get("attention_type") != "ScaleChannelSpatial"):
            raise UserError(f"{_KEY}.asf_cfg: expected None or dict(attention_type="
                            f"'ScaleChannelSpatial') (got {asf_cfg!r})")
        self.in_channels = in_channels
        self.lateral_channels = lateral_channels
        self.out_channels = out_channels
        self.num_ins = self.num_outs = len(in_channels)
        self.bn_re_on_lateral, self.bn_re_on_smooth = bn_re_on_lateral, bn_re_on_smooth
        self.asf_cfg = asf_cfg
        self.conv_after_concat = conv_after_concat
        self.lateral_convs = ModuleList()
        self.smooth_convs = ModuleList()
        for c in in_channels:
            # built in this order (lateral, smooth, lateral, ...) for MMOCR's random stream
            lateral = _conv(c, lateral_channels, 1, bias_on_lateral, bn_re_on_lateral)
            smooth = _conv(lateral_channels, out_channels, 3, bias_on_smooth, bn_re_on_smooth)
            self.lateral_convs.append(lateral)
            self.smooth_convs.append(smooth)
        cat = out_channels * self.num_outs
        if asf_cfg is not None:
            self.asf_conv = _conv(cat, cat, 3)
            self.asf_attn = ScaleChannelSpatialAttention(cat, cat // 4, self.num_outs)
        if conv_after_concat:
            self.out_conv = _conv(cat, cat, 3, with_bn_relu=True)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"FPNC: expected {len(self.in_channels)} maps, got {len(inputs)}")
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
        outs = [self.smooth_convs[i](laterals[i]) for i in range(len(laterals))]
        outs = [F.interpolate(o, size=outs[0].shape[2:], mode="nearest") for o in outs]
        out = torch.cat(outs, dim=1)
        if self.asf_cfg is not None:
            attention = self.asf_attn(self.asf_conv(out))
            out = torch.cat([attention[:, i:i + 1] * o for i, o in enumerate(outs)], dim=1)
        if self.conv_after_concat:
            out = self.out_conv(out)
        return out


class ScaleChannelSpatialAttention(BaseModule):
    """DBNet++'s attention: a channel-wise (squeeze-excite style) and a spatial branch, summed
    onto the input, then a 1x1 conv + sigmoid giving one weight map per pyramid level."""

    def __init__(self, in_channels: int, c_wise_channels: int, out_channels: int,
                 init_cfg: Any = [dict(type="Kaiming", layer="Conv", bias=0)]):  # noqa: B006
        super().__init__(init_cfg=init_cfg)
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.channel_wise = Sequential(
            _conv(in_channels, c_wise_channels, 1, bias=False, act="ReLU"),
            _conv(c_wise_channels, in_channels, 1, bias=False, act="Sigmoid"))
        self.spatial_wise = Sequential(
            _conv(1, 1, 3, bias=False, act="ReLU"),
            _conv(1, 1, 1, bias=False, act="Sigmoid"))
        self.attention_wise = _conv(in_channels, out_channels, 1, bias=False, act="Sigmoid")

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        out = self.channel_wise(self.avg_pool(inputs)) + inputs
        out = self.spatial_wise(torch.mean(out, dim=1, keepdim=True)) + out
        return self.attention_wise(out)

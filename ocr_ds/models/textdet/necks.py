"""DBNet's feature-pyramid neck ``FPNC`` (PSENet's FPNF is in
:mod:`ocr_ds.models.textdet.psenet.fpnf`).

It takes the backbone's C2..C5 maps, runs a top-down pathway and returns one map at the C2
resolution (1/4 of the input), made by upsampling every level to it and concatenating.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.norm import build_norm, is_norm


def conv_module(in_ch: int, out_ch: int, kernel: int, bias: bool,
                norm_cfg: Mapping | None, relu: bool) -> nn.Sequential:
    """conv -> optional norm -> optional ReLU (mmcv's ``ConvModule`` in the order used here)."""
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, kernel, padding=kernel // 2, bias=bias)]
    if norm_cfg is not None:
        layers.append(build_norm(norm_cfg, out_ch))
    if relu:
        layers.append(nn.ReLU(inplace=False))
    return nn.Sequential(*layers)


def _check_in_channels(in_channels: Sequence[int], key: str) -> list[int]:
    if not isinstance(in_channels, (list, tuple)) or not all(
            isinstance(c, int) and c > 0 for c in in_channels):
        raise UserError(f"{key}: expected a list of positive ints (got {in_channels!r})")
    return list(in_channels)


class FPNC(nn.Module):
    """DBNet's FPN: 1x1 laterals, top-down sums, a 3x3 smoothing conv per level, concat.

    Args:
        in_channels: Channels of each input level.
        lateral_channels: Channels of the lateral convs. Defaults to 256.
        out_channels: Channels each level contributes; the output has
            ``out_channels * len(in_channels)``. Defaults to 64.
        bias_on_lateral / bn_re_on_lateral: Bias / BN+ReLU on laterals. Default False.
        bias_on_smooth / bn_re_on_smooth: Bias / BN+ReLU on smoothing convs. Default False.
        conv_after_concat: One more 3x3 conv + BN + ReLU on the concatenation. Default False.
    """

    def __init__(self, in_channels: Sequence[int], lateral_channels: int = 256,
                 out_channels: int = 64, bias_on_lateral: bool = False,
                 bn_re_on_lateral: bool = False, bias_on_smooth: bool = False,
                 bn_re_on_smooth: bool = False, asf_cfg: Mapping | None = None,
                 conv_after_concat: bool = False, init_cfg: object = None):
        super().__init__()
        in_channels = _check_in_channels(in_channels, "neck.in_channels")
        if asf_cfg is not None:
            raise UserError(f"neck.asf_cfg: adaptive scale fusion (DBNet++) is not supported "
                            f"(got {asf_cfg!r}); expected None")
        self.in_channels = in_channels
        self.out_channels = out_channels * len(in_channels)
        bn = dict(type="BN")
        self.lateral_convs = nn.ModuleList([
            conv_module(c, lateral_channels, 1, bias_on_lateral,
                        bn if bn_re_on_lateral else None, bn_re_on_lateral)
            for c in in_channels])
        self.smooth_convs = nn.ModuleList([
            conv_module(lateral_channels, out_channels, 3, bias_on_smooth,
                        bn if bn_re_on_smooth else None, bn_re_on_smooth)
            for _ in in_channels])
        self.out_conv = (conv_module(self.out_channels, self.out_channels, 3, False, bn, True)
                         if conv_after_concat else None)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif is_norm(m):
                nn.init.ones_(m.weight)
                nn.init.constant_(m.bias, 1e-4)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"FPNC: expected {len(self.in_channels)} maps, got {len(inputs)}")
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        for i in range(len(laterals) - 1, 0, -1):
            laterals[i - 1] = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
        outs = [conv(x) for conv, x in zip(self.smooth_convs, laterals)]
        size = outs[0].shape[2:]
        outs = [outs[0]] + [F.interpolate(o, size=size, mode="nearest") for o in outs[1:]]
        out = torch.cat(outs, dim=1)
        return self.out_conv(out) if self.out_conv is not None else out

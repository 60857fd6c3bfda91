"""PSENet's feature-pyramid neck ``FPNF`` (DBNet's ``FPNC``: :mod:`ocr_ds.models.textdet.dbnet.neck`).

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


class FPNF(nn.Module):
    """PSENet's FPN: BN+ReLU laterals, smoothed top-down sums, concat (or add), a 3x3 conv.

    Args:
        in_channels: Channels of each input level. Defaults to [256, 512, 1024, 2048].
        out_channels: Channels of every level and of the output. Defaults to 256.
        fusion_type: 'concat' or 'add'. Defaults to 'concat'.
    """

    def __init__(self, in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256, fusion_type: str = "concat",
                 upsample_ratio: int = 1, init_cfg: object = None):
        super().__init__()
        in_channels = _check_in_channels(in_channels, "neck.in_channels")
        if fusion_type not in ("concat", "add"):
            raise UserError(f"neck.fusion_type: expected 'concat' or 'add' (got {fusion_type!r})")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.fusion_type = fusion_type
        bn = dict(type="BN")
        self.lateral_convs = nn.ModuleList([
            conv_module(c, out_channels, 1, False, bn, True) for c in in_channels])
        self.fpn_convs = nn.ModuleList([
            conv_module(out_channels, out_channels, 3, False, bn, True)
            for _ in in_channels[:-1]])
        fused = out_channels * len(in_channels) if fusion_type == "concat" else out_channels
        self.output_convs = conv_module(fused, out_channels, 3, False, bn, True)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
            elif is_norm(m):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"FPNF: expected {len(self.in_channels)} maps, got {len(inputs)}")
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        for i in range(len(laterals) - 1, 0, -1):
            merged = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
            laterals[i - 1] = self.fpn_convs[i - 1](merged)
        size = laterals[0].shape[2:]
        laterals = [laterals[0]] + [F.interpolate(x, size=size, mode="nearest")
                                    for x in laterals[1:]]
        out = torch.cat(laterals, 1) if self.fusion_type == "concat" else sum(laterals)
        return self.output_convs(out)

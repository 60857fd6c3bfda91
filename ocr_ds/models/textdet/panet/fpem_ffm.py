"""``FPEM_FFM``: PANet's neck, with MMOCR 0.6.3's module tree (names, containers, init).

Each backbone level is reduced to ``conv_out`` channels (1x1 conv, BN, ReLU); ``fpem_repeat``
feature pyramid enhancement modules (FPEM: an up-scale then a down-scale pass of depthwise
separable convs) refine the four maps, their outputs are summed level by level, and the
feature fusion module (FFM) upsamples the sums to the finest level. The head concatenates them.

Initialisation is MMOCR's effective one: Xavier-uniform on every conv of the neck (its
``init_cfg``), torch's defaults on the BNs.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList


def _upsample_add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``x`` resized (nearest) to ``y``'s size, plus ``y``."""
    return F.interpolate(x, size=y.shape[2:]) + y


class SeparableConv2d(BaseModule):
    """Depthwise 3x3 (stride ``stride``), pointwise 1x1, BN, ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.depthwise_conv = nn.Conv2d(in_channels, in_channels, kernel_size=3, padding=1,
                                        stride=stride, groups=in_channels)
        self.pointwise_conv = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.bn(self.pointwise_conv(self.depthwise_conv(x))))


class FPEM(BaseModule):
    """One feature pyramid enhancement module: up-scale pass (C5 -> C2), then down-scale
    pass (C2 -> C5, the stride-2 separable convs bring each sum back to its level's size)."""

    def __init__(self, in_channels: int = 128, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.up_add1 = SeparableConv2d(in_channels, in_channels, 1)
        self.up_add2 = SeparableConv2d(in_channels, in_channels, 1)
        self.up_add3 = SeparableConv2d(in_channels, in_channels, 1)
        self.down_add1 = SeparableConv2d(in_channels, in_channels, 2)
        self.down_add2 = SeparableConv2d(in_channels, in_channels, 2)
        self.down_add3 = SeparableConv2d(in_channels, in_channels, 2)

    def forward(self, c2: torch.Tensor, c3: torch.Tensor, c4: torch.Tensor,
                c5: torch.Tensor) -> tuple[torch.Tensor, ...]:
        c4 = self.up_add1(_upsample_add(c5, c4))
        c3 = self.up_add2(_upsample_add(c4, c3))
        c2 = self.up_add3(_upsample_add(c3, c2))
        # the down pass adds the finer map resized to the coarser level's *input* size
        c3 = self.down_add1(_upsample_add(c3, c2))
        c4 = self.down_add2(_upsample_add(c4, c3))
        c5 = self.down_add3(_upsample_add(c5, c4))
        return c2, c3, c4, c5


def _reduce(in_ch: int, out_ch: int) -> nn.Sequential:
    # a torch Sequential, as MMOCR's: the init walk does not enter it, the neck's Xavier does
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, kernel_size=1), nn.BatchNorm2d(out_ch),
                         nn.ReLU())


class FPEM_FFM(BaseModule):  # noqa: N801 -- MMOCR's class name, named by configs
    """PANet's neck.

    Args:
        in_channels: Channels of the four backbone levels C2..C5.
        conv_out: Channels of every level after reduction. Defaults to 128.
        fpem_repeat: Number of FPEMs. Defaults to 2.
        align_corners: ``align_corners`` of FFM's bilinear upsampling. Defaults to False.
        init_cfg: Defaults to ``dict(type='Xavier', layer='Conv2d', distribution='uniform')``.

    Returns (forward): four ``(N, conv_out, H/4, W/4)`` maps, the finest first.
    """

    def __init__(self, in_channels: Sequence[int], conv_out: int = 128, fpem_repeat: int = 2,
                 align_corners: bool = False,
                 init_cfg: Mapping | list | None = dict(type="Xavier", layer="Conv2d",
                                                        distribution="uniform")):
        super().__init__(init_cfg=init_cfg)
        if not (isinstance(in_channels, (list, tuple)) and len(in_channels) == 4
                and all(isinstance(c, int) and c > 0 for c in in_channels)):
            raise UserError(f"model.neck.in_channels: expected 4 positive ints, the channels of "
                            f"C2..C5 (got {in_channels!r})")
        if not isinstance(conv_out, int) or conv_out < 1:
            raise UserError(f"model.neck.conv_out: expected a positive int (got {conv_out!r})")
        if not isinstance(fpem_repeat, int) or fpem_repeat < 1:
            raise UserError(f"model.neck.fpem_repeat: expected an int >= 1 "
                            f"(got {fpem_repeat!r})")
        self.in_channels = list(in_channels)
        self.reduce_conv_c2 = _reduce(in_channels[0], conv_out)
        self.reduce_conv_c3 = _reduce(in_channels[1], conv_out)
        self.reduce_conv_c4 = _reduce(in_channels[2], conv_out)
        self.reduce_conv_c5 = _reduce(in_channels[3], conv_out)
        self.align_corners = align_corners
        self.fpems = ModuleList()
        for _ in range(fpem_repeat):
            self.fpems.append(FPEM(conv_out))

    def forward(self, x: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if len(x) != 4:
            raise ValueError(f"FPEM_FFM: expected the 4 maps C2..C5, got {len(x)}")
        c2, c3, c4, c5 = x
        feats = (self.reduce_conv_c2(c2), self.reduce_conv_c3(c3), self.reduce_conv_c4(c4),
                 self.reduce_conv_c5(c5))
        sums: list[torch.Tensor] = []
        for i, fpem in enumerate(self.fpems):
            feats = fpem(*feats)
            sums = list(feats) if i == 0 else [s + f for s, f in zip(sums, feats)]
        size = sums[0].shape[-2:]
        ups = [F.interpolate(s, size, mode="bilinear", align_corners=self.align_corners)
               for s in sums[1:]]
        return (sums[0], *ups)

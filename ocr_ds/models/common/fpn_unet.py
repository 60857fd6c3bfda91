"""``FPN_UNet``: the U-Net-like FPN of TextSnake and DRRG in MMOCR 0.6.3.

C5 is upsampled by a 4x4/2 transposed conv, then each ``UpBlock`` (1x1 conv, 3x3 conv, 4x4/2
transposed conv, ReLUs between) takes it concatenated with the next finer backbone map; the
output is at the input image's resolution (C2 is at 1/4). Channel widths double per level
from ``out_channels``, capped at 256.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import bad_value
from ocr_ds.models.common.base import BaseModule


class UpBlock(BaseModule):
    """1x1 conv (same width) -> ReLU -> 3x3 conv -> ReLU -> 4x4/2 transposed conv."""

    def __init__(self, in_channels: int, out_channels: int, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.conv1x1 = nn.Conv2d(in_channels, in_channels, kernel_size=1, stride=1, padding=0)
        self.conv3x3 = nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=1, padding=1)
        self.deconv = nn.ConvTranspose2d(out_channels, out_channels, kernel_size=4, stride=2,
                                         padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1x1(x))
        x = F.relu(self.conv3x3(x))
        return self.deconv(x)


class FPN_UNet(BaseModule):  # noqa: N801 (MMOCR's name)
    """Args:
        in_channels: Channels of C2..C5 (four levels).
        out_channels: Channels of the output map.
        init_cfg: Defaults to Xavier uniform on every ``Conv2d`` and ``ConvTranspose2d``.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int,
                 init_cfg: Any = dict(type="Xavier",  # noqa: B006
                                      layer=["Conv2d", "ConvTranspose2d"],
                                      distribution="uniform")):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, (list, tuple)) or len(in_channels) != 4 or not all(
                isinstance(c, int) and c > 0 for c in in_channels):
            raise bad_value("model.neck.in_channels", in_channels,
                            "four channel counts (C2..C5)")
        if not isinstance(out_channels, int) or out_channels < 1:
            raise bad_value("model.neck.out_channels", out_channels, "a channel count")
        outs = [out_channels] + [min(out_channels * 2**i, 256) for i in range(4)]
        ins = [outs[1]] + [in_channels[i] + outs[i + 2] for i in range(3)] + [in_channels[3]]
        self.up4 = nn.ConvTranspose2d(ins[4], outs[4], kernel_size=4, stride=2, padding=1)
        self.up_block3 = UpBlock(ins[3], outs[3])
        self.up_block2 = UpBlock(ins[2], outs[2])
        self.up_block1 = UpBlock(ins[1], outs[1])
        self.up_block0 = UpBlock(ins[0], outs[0])

    def forward(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        c2, c3, c4, c5 = x
        x = F.relu(self.up4(c5))
        x = F.relu(self.up_block3(torch.cat([x, c4], dim=1)))
        x = F.relu(self.up_block2(torch.cat([x, c3], dim=1)))
        x = F.relu(self.up_block1(torch.cat([x, c2], dim=1)))
        return self.up_block0(x)

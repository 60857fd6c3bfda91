"""``FPNOCR``: SegOCR's feature-pyramid neck (MMOCR 0.6.3's ``necks/fpn_ocr.py``).

Top-down: each backbone level gets a 1x1 lateral ConvModule (conv, BN, ReLU); from the deepest
level up, the running map is upsampled 2x (bilinear), concatenated with the next lateral map
and smoothed by a 1x1 then a 3x3 ConvModule. The module tree (``lateral_convs``,
``smooth_convs_1x1``, ``smooth_convs_3x3``: our ``ModuleList`` as mmcv's) and the construction
order are MMOCR's, so keys and a seeded initialisation (each ConvModule's own Kaiming) match.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.textdet.psenet.fpnf import check_in_channels
from ocr_ds.translate.values import positive_int


class FPNOCR(BaseModule):
    """FPN-like neck for segmentation-based recognition.

    Args:
        in_channels: Channels of each backbone level (shallow to deep), at least two.
        out_channels: Channels of every lateral and output map.
        last_stage_only: Return only the finest map (a 1-tuple). Defaults to True.
        init_cfg: Defaults to None.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int,
                 last_stage_only: bool = True, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        in_channels = check_in_channels(in_channels, "model.neck.in_channels")
        if len(in_channels) < 2:
            raise UserError(f"model.neck.in_channels: expected at least two levels "
                            f"(got {in_channels!r})")
        positive_int(out_channels, "model.neck.out_channels")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.last_stage_only = last_stage_only
        bn = dict(type="BN")
        self.lateral_convs = ModuleList()
        self.smooth_convs_1x1 = ModuleList()
        self.smooth_convs_3x3 = ModuleList()
        # MMOCR's order: every lateral conv first, then the (1x1, 3x3) pairs
        for c in in_channels:
            self.lateral_convs.append(ConvModule(c, out_channels, 1, norm_cfg=bn))
        for _ in range(self.num_ins - 1):
            self.smooth_convs_1x1.append(ConvModule(out_channels * 2, out_channels, 1,
                                                    norm_cfg=bn))
            self.smooth_convs_3x3.append(ConvModule(out_channels, out_channels, 3, padding=1,
                                                    norm_cfg=bn))

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """``inputs``: one map per level; returns the finest smoothed map (or all of them)."""
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        outs: list[torch.Tensor] = []
        for i in range(len(self.smooth_convs_3x3), 0, -1):
            last = laterals[-1] if not outs else outs[-1]
            up = F.interpolate(last, scale_factor=2, mode="bilinear")
            merged = self.smooth_convs_1x1[i - 1](torch.cat((up, laterals[i - 1]), dim=1))
            outs.append(self.smooth_convs_3x3[i - 1](merged))
        return tuple(outs[-1:]) if self.last_stage_only else tuple(outs)

"""``SegHead``: SegOCR's per-pixel classifier (MMOCR 0.6.3's ``heads/seg_head.py``).

A 3x3 ConvModule (conv, BN, ReLU) on the neck's last map, a 1x1 ``nn.Conv2d`` to
``num_classes`` (the convertor's: background, the dictionary, ``<UKN>``), then an optional
``F.interpolate(**upsample_param)`` (SegOCR's config: 2x nearest, so the map is 1/2 of the
input's size).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.translate.values import positive_int


class SegHead(BaseModule):
    """Segmentation head.

    Args:
        in_channels: Channels of the neck's map. Defaults to 128.
        num_classes: Output classes (the recogniser sets it from its convertor). Defaults to 37.
        upsample_param: Keyword arguments of ``F.interpolate`` for the logits, or None.
            Defaults to None.
        init_cfg: Defaults to None.
    """

    def __init__(self, in_channels: int = 128, num_classes: int = 37,
                 upsample_param: Mapping[str, Any] | None = None, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        positive_int(num_classes, "model.head.num_classes")
        if upsample_param is not None and not isinstance(upsample_param, Mapping):
            raise UserError(f"model.head.upsample_param: expected None or a dict of "
                            f"F.interpolate arguments (got {upsample_param!r})")
        self.upsample_param = dict(upsample_param) if upsample_param is not None else None
        self.seg_conv = ConvModule(in_channels, in_channels, 3, stride=1, padding=1,
                                   norm_cfg=dict(type="BN"))
        self.pred_conv = nn.Conv2d(in_channels, num_classes, kernel_size=1, stride=1, padding=0)

    def forward(self, out_neck: Sequence[torch.Tensor]) -> torch.Tensor:
        """``(N, num_classes, kH, kW)`` logits of the neck's last map."""
        seg_map = self.pred_conv(self.seg_conv(out_neck[-1]))
        if self.upsample_param is not None:
            seg_map = F.interpolate(seg_map, **self.upsample_param)
        return seg_map

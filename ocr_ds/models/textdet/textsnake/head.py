"""``TextSnakeHead``: one 1x1 conv from the neck's map to 5 channels -- text region and text
center logits, sin and cos of the local text direction, and the disk radius.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds.errors import bad_value
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.head_mixin import HeadMixin, with_old_keys


class TextSnakeHead(HeadMixin, BaseModule):
    """TextSnake head (Long et al., ECCV 2018), MMOCR 0.6.3's arguments and module names.

    Args:
        in_channels: Channels of the neck's map.
        out_channels: Output maps. Defaults to 5.
        downsample_ratio: Output resolution / input resolution. Defaults to 1.0.
        loss: Defaults to ``dict(type='TextSnakeLoss')``.
        postprocessor: Defaults to ``dict(type='TextSnakePostprocessor', text_repr_type='poly')``.
        init_cfg: Defaults to Normal(0, 0.01) on ``out_conv``.
    """

    def __init__(self, in_channels: int, out_channels: int = 5, downsample_ratio: float = 1.0,
                 loss: Mapping = dict(type="TextSnakeLoss"),  # noqa: B006
                 postprocessor: Mapping = dict(type="TextSnakePostprocessor",  # noqa: B006
                                               text_repr_type="poly"),
                 train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: Any = dict(type="Normal", override=dict(name="out_conv"),  # noqa: B006
                                      mean=0, std=0.01),
                 **kwargs: Any):
        BaseModule.__init__(self, init_cfg=init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise bad_value("model.bbox_head.in_channels", in_channels, "a channel count")
        unknown = sorted(set(kwargs) - {"text_repr_type", "decoding_type"})
        if unknown:
            raise bad_value("model.bbox_head", unknown[0], "a known TextSnakeHead argument")
        HeadMixin.__init__(self, loss, with_old_keys(postprocessor, **kwargs))
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.downsample_ratio = float(downsample_ratio)
        self.out_conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.out_conv(inputs)

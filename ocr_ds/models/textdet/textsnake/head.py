"""``TextSnakeHead``: one 1x1 conv from the neck's map to 5 channels -- text region and text
center logits, sin and cos of the local text direction, and the disk radius.
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import bad_value
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.heads import rescale_boundaries, scale_factor_xy


class TextSnakeHead(BaseModule):
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
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise bad_value("model.bbox_head.in_channels", in_channels, "a channel count")
        unknown = sorted(set(kwargs) - {"text_repr_type", "decoding_type"})
        if unknown:
            raise bad_value("model.bbox_head", unknown[0], "a known TextSnakeHead argument")
        postprocessor = dict(postprocessor)
        for key in ("text_repr_type", "decoding_type"):
            if kwargs.get(key):
                postprocessor[key] = kwargs[key]
                warnings.warn(f"model.bbox_head.{key} is deprecated: give it in "
                              f"model.bbox_head.postprocessor")
        self.loss_module = registry.build(registry.COMPONENTS, loss, "model.bbox_head.loss")
        self.postprocessor = registry.build(registry.COMPONENTS, postprocessor,
                                            "model.bbox_head.postprocessor")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.downsample_ratio = float(downsample_ratio)
        self.out_conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.out_conv(inputs)

    def loss(self, preds: torch.Tensor, **targets: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.loss_module(preds, self.downsample_ratio, **targets)

    def get_boundary(self, pred: torch.Tensor, img_meta: Mapping[str, Any]) -> dict:
        """Decode one image's ``(5, H, W)`` maps into original-image boundaries."""
        boundaries = self.postprocessor(pred)
        sx, sy = scale_factor_xy(img_meta)
        factor = (1.0 / self.downsample_ratio / sx, 1.0 / self.downsample_ratio / sy)
        return dict(boundary_result=rescale_boundaries(boundaries, factor))

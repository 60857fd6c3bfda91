"""``PSEHead``: one 1x1 conv from the neck's map to K kernel logits (MMOCR 0.6.3's PSEHead).

MMOCR's PSEHead is its PANHead with ``init_cfg=None``: PANHead's Normal(std=0.01) init of
``out_conv`` is *not* applied, so ``out_conv`` keeps torch's default Conv2d initialisation.
That is the effective initialisation reproduced here (``init_cfg`` may still ask for another).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.head_mixin import HeadMixin, with_old_keys


class PSEHead(HeadMixin, BaseModule):
    """PSENet head: ``out_channels`` kernel logits, the text map first, then kernels shrinking
    to the smallest, at ``downsample_ratio`` of the input resolution.

    Args:
        in_channels: Channels of the neck's map, as a list (MMOCR's spelling); summed when the
            head is given several maps (concatenated).
        out_channels: Number of kernels. Defaults to 7 (MMOCR's configs).
        downsample_ratio: Output resolution / input resolution. Defaults to 0.25.
        loss: Defaults to ``dict(type='PSELoss')``.
        postprocessor: Defaults to ``dict(type='PSEPostprocessor', text_repr_type='poly')``.
        init_cfg: Defaults to None (torch's default init, as MMOCR's PSEHead).
        text_repr_type, decoding_type: MMOCR's deprecated spellings of the postprocessor's keys.
    """

    def __init__(self, in_channels: Sequence[int] | int, out_channels: int = 7,
                 downsample_ratio: float = 0.25, loss: Mapping = dict(type="PSELoss"),
                 postprocessor: Mapping = dict(type="PSEPostprocessor", text_repr_type="poly"),
                 train_cfg: Any = None, test_cfg: Any = None, init_cfg: Any = None,
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        BaseModule.__init__(self, init_cfg=init_cfg)
        HeadMixin.__init__(self, loss, with_old_keys(postprocessor, text_repr_type=text_repr_type,
                                                     decoding_type=decoding_type))
        channels = [in_channels] if isinstance(in_channels, int) else in_channels
        if not isinstance(channels, (list, tuple)) or not channels or not all(
                isinstance(c, int) and c > 0 for c in channels):
            raise UserError(f"model.bbox_head.in_channels: expected a list of ints "
                            f"(got {in_channels!r})")
        if not isinstance(out_channels, int) or out_channels < 2:
            raise UserError(f"model.bbox_head.out_channels: expected an int >= 2 "
                            f"(got {out_channels!r})")
        if not 0 < downsample_ratio <= 1:
            raise UserError(f"model.bbox_head.downsample_ratio: expected a value in (0, 1] "
                            f"(got {downsample_ratio!r})")
        self.in_channels = list(channels)
        self.out_channels = out_channels
        self.downsample_ratio = float(downsample_ratio)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.out_conv = nn.Conv2d(sum(self.in_channels), out_channels, kernel_size=1)

    def forward(self, inputs: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        if isinstance(inputs, (list, tuple)):
            inputs = torch.cat(list(inputs), dim=1)
        return self.out_conv(inputs)

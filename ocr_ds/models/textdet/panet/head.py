"""``PANHead``: PANet's head, with MMOCR 0.6.3's names and effective initialisation.

One 1x1 conv from the concatenated neck maps to ``out_channels`` maps at 1/4 of the input:
text logits, kernel logits and (with ``PANLoss``) a 4-d instance embedding. ``init_cfg``
(MMOCR's default: normal, std 0.01, on ``out_conv``) is applied by the model's
``init_weights()``. MMOCR's PSEHead is this head with ``init_cfg=None`` (see
:mod:`ocr_ds.models.textdet.psenet.head`).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.head_mixin import HeadMixin, with_old_keys


class PANHead(HeadMixin, BaseModule):
    """Args:
        in_channels: Channels of each neck map, as a list (MMOCR's spelling, e.g.
            ``[128, 128, 128, 128]``); the maps are concatenated.
        out_channels: Output maps: 6 with ``PANLoss`` (text, kernel, 4-d embedding).
        downsample_ratio: Output resolution / input resolution. Defaults to 0.25.
        loss: Defaults to ``dict(type='PANLoss')``.
        postprocessor: Defaults to ``dict(type='PANPostprocessor', text_repr_type='poly')``.
        init_cfg: Defaults to ``dict(type='Normal', mean=0, std=0.01,
            override=dict(name='out_conv'))``.
        text_repr_type, decoding_type: MMOCR's deprecated spellings of the postprocessor's keys.
    """

    def __init__(self, in_channels: Sequence[int] | int, out_channels: int,
                 downsample_ratio: float = 0.25, loss: Mapping = dict(type="PANLoss"),
                 postprocessor: Mapping = dict(type="PANPostprocessor", text_repr_type="poly"),
                 train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: Mapping | list | None = dict(type="Normal", mean=0, std=0.01,
                                                        override=dict(name="out_conv")),
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        BaseModule.__init__(self, init_cfg=init_cfg)
        # loss and postprocessor first, as MMOCR's HeadMixin (module order = state-dict order)
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
        if isinstance(loss, Mapping) and loss.get("type") == "PANLoss" and out_channels != 6:
            raise UserError(f"model.bbox_head.out_channels: PANLoss needs 6 maps (text, "
                            f"kernel, 4-d embedding) (got {out_channels!r})")
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

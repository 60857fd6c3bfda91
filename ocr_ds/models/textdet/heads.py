"""DBNet's head: the layers on the neck's map, plus the loss and post-processor it owns.

``DBHead`` predicts probability, threshold and binary maps at the input resolution;
``get_boundary`` (:class:`~ocr_ds.models.textdet.head_mixin.HeadMixin`) decodes one sample and
rescales the boundaries to the original image (``1 / downsample_ratio / scale_factor``).
PSENet's head is in :mod:`ocr_ds.models.textdet.psenet.head`.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.norm import is_norm
from ocr_ds.models.textdet.head_mixin import HeadMixin, with_old_keys


class _SegHead(HeadMixin, nn.Module):
    """An ``nn.Module`` head with :class:`HeadMixin`'s loss and post-processor."""

    def __init__(self) -> None:
        nn.Module.__init__(self)

    def _build_parts(self, loss: Mapping, postprocessor: Mapping) -> None:
        HeadMixin.__init__(self, loss, postprocessor)


class DBHead(_SegHead):
    """DBNet head: two branches (conv3x3-BN-ReLU, 2x deconv-BN-ReLU, 2x deconv, sigmoid) for
    the probability and threshold maps, and their differentiable binarisation
    ``1 / (1 + exp(-k (P - T)))`` with k=50.

    Args:
        in_channels: Channels of the neck's map.
        with_bias: Bias on the first conv of each branch. Defaults to False.
        downsample_ratio: Output resolution / input resolution. Defaults to 1.0.
        loss: The loss dict. Defaults to ``dict(type='DBLoss')``.
        postprocessor: The decoder dict. Defaults to
            ``dict(type='DBPostprocessor', text_repr_type='quad')``.
    """

    def __init__(self, in_channels: int, with_bias: bool = False,
                 downsample_ratio: float = 1.0, loss: Mapping = dict(type="DBLoss"),
                 postprocessor: Mapping = dict(type="DBPostprocessor", text_repr_type="quad"),
                 train_cfg: Any = None, test_cfg: Any = None, init_cfg: Any = None,
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        super().__init__()
        if not isinstance(in_channels, int):
            raise UserError(f"model.bbox_head.in_channels: expected an int (got {in_channels!r})")
        self.in_channels = in_channels
        self.downsample_ratio = float(downsample_ratio)
        self._build_parts(loss, with_old_keys(postprocessor, text_repr_type=text_repr_type))
        self.binarize = self._branch(in_channels, with_bias)
        self.threshold = self._branch(in_channels, False)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif is_norm(m):
                nn.init.ones_(m.weight)
                nn.init.constant_(m.bias, 1e-4)

    @staticmethod
    def _branch(ch: int, bias: bool) -> nn.Sequential:
        mid = ch // 4
        return nn.Sequential(
            nn.Conv2d(ch, mid, 3, padding=1, bias=bias), nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(mid, mid, 2, 2), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
            nn.ConvTranspose2d(mid, 1, 2, 2), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        prob = self.binarize(x)
        thr = self.threshold(x)
        binary = torch.reciprocal(1.0 + torch.exp(-50 * (prob - thr)))
        return torch.cat((prob, thr, binary), dim=1)

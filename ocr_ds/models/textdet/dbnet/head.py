"""``DBHead``: DBNet's probability, threshold and approximate binary maps.

Two branches on the neck's map, each ``conv3x3 -> BN -> ReLU -> deconv 2x -> BN -> ReLU ->
deconv 2x -> sigmoid`` (so the maps come out at the input resolution): ``binarize`` gives the
probability map P, ``threshold`` the threshold map T, and the approximate binary map is
``1 / (1 + exp(-50 (P - T)))``. Forward returns ``(N, 3, H, W)``: P, T, binary.

MMOCR's ``init_cfg`` (``layer='Conv'``/``'BatchNorm'``) names no class, so the layers keep
torch's default initialisation, in MMOCR and here alike.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential
from ocr_ds.models.textdet.head_mixin import HeadMixin, with_old_keys


def _branch(ch: int, bias: bool) -> Sequential:
    mid = ch // 4
    return Sequential(
        nn.Conv2d(ch, mid, 3, bias=bias, padding=1), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
        nn.ConvTranspose2d(mid, mid, 2, 2), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
        nn.ConvTranspose2d(mid, 1, 2, 2), nn.Sigmoid())


class DBHead(HeadMixin, BaseModule):
    """Args (MMOCR's): in_channels (int), with_bias=False (bias of ``binarize``'s first conv;
    ``threshold``'s has none), downsample_ratio=1.0, loss=dict(type='DBLoss'),
    postprocessor=dict(type='DBPostprocessor', text_repr_type='quad'), init_cfg, train_cfg,
    test_cfg; ``text_repr_type``/``decoding_type`` (old spellings, moved into the
    postprocessor)."""

    def __init__(self, in_channels: int, with_bias: bool = False,
                 downsample_ratio: float = 1.0, loss: Mapping = dict(type="DBLoss"),  # noqa: B008
                 postprocessor: Mapping = dict(type="DBPostprocessor",  # noqa: B008
                                               text_repr_type="quad"),
                 init_cfg: Any = [dict(type="Kaiming", layer="Conv"),  # noqa: B006
                                  dict(type="Constant", layer="BatchNorm", val=1.0,
                                       bias=1e-4)],
                 train_cfg: Any = None, test_cfg: Any = None,
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        BaseModule.__init__(self, init_cfg=init_cfg)
        HeadMixin.__init__(self, loss, with_old_keys(postprocessor, text_repr_type=text_repr_type,
                                                     decoding_type=decoding_type))
        if not isinstance(in_channels, int):
            raise UserError(f"model.bbox_head.in_channels: expected an int (got {in_channels!r})")
        self.in_channels = in_channels
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.downsample_ratio = float(downsample_ratio)
        self.binarize = _branch(in_channels, with_bias)
        self.threshold = _branch(in_channels, False)

    @staticmethod
    def diff_binarize(prob_map: torch.Tensor, thr_map: torch.Tensor, k: float) -> torch.Tensor:
        return torch.reciprocal(1.0 + torch.exp(-k * (prob_map - thr_map)))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        prob_map = _fp32_sigmoid(self.binarize, inputs)
        thr_map = _fp32_sigmoid(self.threshold, inputs)
        return torch.cat((prob_map, thr_map, self.diff_binarize(prob_map, thr_map, k=50)), dim=1)


def _fp32_sigmoid(branch: Sequential, x: torch.Tensor) -> torch.Tensor:
    """The branch with its last layer, the sigmoid, in fp32, and so the maps and the
    binarisation after it: with DeepSpeed fp16 (a half model) the half sigmoid rounds to exactly
    0 or 1, exp(-50 (P - T)) overflows, and the loss's gradients were inf at every step (seen on
    a GPU: every DBNet fp16 step skipped). A no-op in fp32; MMOCR 0.6.3 computes the same maps
    (and cannot train DBNet in fp16 on torch >= 1.6 at all: its loss is unsafe to autocast)."""
    *layers, sigmoid = branch
    for layer in layers:
        x = layer(x)
    return sigmoid(x.float())

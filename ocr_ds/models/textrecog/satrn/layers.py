"""SATRN's encoder layers (MMOCR 0.6.3's ``layers/satrn_layers.py``).

* ``Adaptive2DPositionalEncoding``: sinusoidal height and width tables, each scaled per channel
  by a gate computed from the map's global average (two 1x1 convs, ReLU, sigmoid), added to the
  map; returns ``x + h_enc + w_enc`` after dropout.
* ``LocalityAwareFeedforward``: 1x1 conv, 3x3 depthwise conv, 1x1 conv, each with BN and ReLU
  (mmcv ConvModules), on the sequence folded back to its ``H x W`` map.
* ``SatrnEncoderLayer``: pre-norm self-attention, then the locality-aware feed-forward, each
  with a residual.

Initialisation is MMOCR's effective one: Xavier (normal) for the gates' convs; the
feed-forward's ConvModules end with their own Kaiming / BN 1-0 (their ``init_weights`` runs
after their parent's ``init_cfg``), the attention and norms keep torch's.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.transformer import MultiHeadAttention, PositionalEncoding


class LocalityAwareFeedforward(BaseModule):
    """1x1 conv -> 3x3 depthwise conv -> 1x1 conv (conv-BN-ReLU each).

    Args:
        d_in: Channels in and out.
        d_hid: Hidden channels.
        dropout: Unused (MMOCR's signature). Defaults to 0.1.
        init_cfg: Defaults to Xavier for Conv2d and Constant 1/0 for BatchNorm2d.
    """

    def __init__(self, d_in: int, d_hid: int, dropout: float = 0.1, init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Xavier", layer="Conv2d"),
                        dict(type="Constant", layer="BatchNorm2d", val=1, bias=0)]
        super().__init__(init_cfg=init_cfg)
        bn, relu = dict(type="BN"), dict(type="ReLU")
        self.conv1 = ConvModule(d_in, d_hid, kernel_size=1, padding=0, bias=False,
                                norm_cfg=bn, act_cfg=relu)
        self.depthwise_conv = ConvModule(d_hid, d_hid, kernel_size=3, padding=1, bias=False,
                                         groups=d_hid, norm_cfg=bn, act_cfg=relu)
        self.conv2 = ConvModule(d_hid, d_in, kernel_size=1, padding=0, bias=False,
                                norm_cfg=bn, act_cfg=relu)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.depthwise_conv(self.conv1(x)))


class SatrnEncoderLayer(BaseModule):
    """Pre-norm self-attention and locality-aware feed-forward over an ``H x W`` map.

    Args:
        d_model: Features. Defaults to 512.
        d_inner: Feed-forward hidden channels. Defaults to 512.
        n_head, d_k, d_v, dropout, qkv_bias: as
            :class:`~ocr_ds.models.common.transformer.MultiHeadAttention`.
        init_cfg: Defaults to None.
    """

    def __init__(self, d_model: int = 512, d_inner: int = 512, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, dropout: float = 0.1, qkv_bias: bool = False,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(n_head, d_model, d_k, d_v, qkv_bias=qkv_bias,
                                       dropout=dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.feed_forward = LocalityAwareFeedforward(d_model, d_inner, dropout=dropout)

    def forward(self, x: torch.Tensor, h: int, w: int, mask: torch.Tensor | None = None
                ) -> torch.Tensor:
        n, hw, c = x.size()
        normed = self.norm1(x)
        x = x + self.attn(normed, normed, normed, mask)
        y = self.norm2(x).transpose(1, 2).contiguous().view(n, c, h, w)
        y = self.feed_forward(y).view(n, c, hw).transpose(1, 2)
        return x + y


class Adaptive2DPositionalEncoding(BaseModule):
    """Adaptive 2-D positional encoding.

    Args:
        d_hid: Channels. Defaults to 512.
        n_height, n_width: Largest map height / width. Default to 100.
        dropout: Dropout on the output. Defaults to 0.1.
        init_cfg: Defaults to Xavier for Conv2d.
    """

    def __init__(self, d_hid: int = 512, n_height: int = 100, n_width: int = 100,
                 dropout: float = 0.1, init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Xavier", layer="Conv2d")]
        super().__init__(init_cfg=init_cfg)
        # the 1-D table of NRTR's PositionalEncoding (the same numbers), laid along H and W
        table = PositionalEncoding._get_sinusoid_encoding_table
        self.register_buffer("h_position_encoder",
                             table(n_height, d_hid)[0].transpose(0, 1).reshape(1, d_hid,
                                                                               n_height, 1))
        self.register_buffer("w_position_encoder",
                             table(n_width, d_hid)[0].transpose(0, 1).reshape(1, d_hid, 1,
                                                                              n_width))
        self.h_scale = self.scale_factor_generate(d_hid)
        self.w_scale = self.scale_factor_generate(d_hid)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(p=dropout)

    @staticmethod
    def scale_factor_generate(d_hid: int) -> nn.Sequential:
        # torch's Sequential, as MMOCR's: the parent's Xavier reaches its convs
        return nn.Sequential(nn.Conv2d(d_hid, d_hid, kernel_size=1), nn.ReLU(inplace=True),
                             nn.Conv2d(d_hid, d_hid, kernel_size=1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, h, w = x.size()
        avg_pool = self.pool(x)
        h_pos = self.h_scale(avg_pool) * self.h_position_encoder[:, :, :h, :]
        w_pos = self.w_scale(avg_pool) * self.w_position_encoder[:, :, :, :w]
        return self.dropout(x + h_pos + w_pos)

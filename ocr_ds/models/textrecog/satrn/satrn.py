"""``SATRN``, its ``ShallowCNN`` backbone and ``SatrnEncoder`` (MMOCR 0.6.3's
``recognizer/satrn.py``, ``backbones/shallow_cnn.py``, ``encoders/satrn_encoder.py``).

The backbone is two 3x3 conv-BN-ReLU blocks, each followed by a 2x2 max-pool: ``(N, D_m, H/4,
W/4)``. The encoder adds the adaptive 2-D positional encoding to the map -- MMOCR's
``feat += position_enc(feat)``, and the encoding returns ``feat + positions``, so the map
enters the layers doubled; kept, trained weights depend on it -- then runs its layers over the
``H*W`` positions with the columns beyond ``ceil(W * valid_ratio)`` masked, and a final norm:
``(N, H*W, D_m)`` for ``NRTRDecoder``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.textrecog.base import BaseEncoder, check_dropout
from ocr_ds.models.textrecog.nrtr.nrtr import check_positive_int
from ocr_ds.models.textrecog.recognizer import EncodeDecodeRecognizer
from ocr_ds.models.textrecog.satrn.layers import Adaptive2DPositionalEncoding, SatrnEncoderLayer


class SATRN(EncodeDecodeRecognizer):
    """SATRN: an :class:`EncodeDecodeRecognizer` with MMOCR's name."""


class ShallowCNN(BaseModule):
    """SATRN's shallow CNN.

    Args:
        input_channels: Image channels. Defaults to 1.
        hidden_dim: Output channels :math:`D_m` (the first block has half). Defaults to 512.
        init_cfg: Defaults to Kaiming for Conv2d and Uniform for BatchNorm2d (overridden by the
            ConvModules' own initialisation, as in MMOCR).
    """

    def __init__(self, input_channels: int = 1, hidden_dim: int = 512,
                 init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                        dict(type="Uniform", layer="BatchNorm2d")]
        super().__init__(init_cfg=init_cfg)
        check_positive_int(input_channels, "model.backbone.input_channels")
        check_positive_int(hidden_dim, "model.backbone.hidden_dim")
        bn, relu = dict(type="BN"), dict(type="ReLU")
        self.conv1 = ConvModule(input_channels, hidden_dim // 2, kernel_size=3, stride=1,
                                padding=1, bias=False, norm_cfg=bn, act_cfg=relu)
        self.conv2 = ConvModule(hidden_dim // 2, hidden_dim, kernel_size=3, stride=1,
                                padding=1, bias=False, norm_cfg=bn, act_cfg=relu)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.size(1) != self.conv1.in_channels:
            raise UserError(f"model.backbone.input_channels: expected the images' "
                            f"{x.size(1)} channels (got {self.conv1.in_channels})")
        return self.pool(self.conv2(self.pool(self.conv1(x))))


class SatrnEncoder(BaseEncoder):
    """SATRN's encoder.

    Args:
        n_layers: Layers. Defaults to 12.
        n_head, d_k, d_v: Heads and their key/value features. Default to 8, 64, 64.
        d_model: Channels of the backbone map :math:`D_m`. Defaults to 512.
        n_position: Largest map height and width of the positional encoding. Defaults to 100.
        d_inner: Feed-forward hidden channels. Defaults to 256.
        dropout: Dropout. Defaults to 0.1.
        init_cfg: Defaults to None.
    """

    def __init__(self, n_layers: int = 12, n_head: int = 8, d_k: int = 64, d_v: int = 64,
                 d_model: int = 512, n_position: int = 100, d_inner: int = 256,
                 dropout: float = 0.1, init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("n_layers", n_layers), ("n_head", n_head), ("d_k", d_k),
                            ("d_v", d_v), ("d_model", d_model), ("n_position", n_position),
                            ("d_inner", d_inner)):
            check_positive_int(value, f"model.encoder.{name}")
        check_dropout(dropout, "model.encoder.dropout")
        self.d_model = d_model
        self.n_position = n_position
        self.position_enc = Adaptive2DPositionalEncoding(d_hid=d_model, n_height=n_position,
                                                         n_width=n_position, dropout=dropout)
        self.layer_stack = ModuleList([
            SatrnEncoderLayer(d_model, d_inner, n_head, d_k, d_v, dropout=dropout)
            for _ in range(n_layers)])
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None
                ) -> torch.Tensor:
        n, c, h, w = feat.size()
        if c != self.d_model:
            raise UserError(f"model.encoder.d_model: expected the backbone's {c} channels "
                            f"(got {self.d_model})")
        if max(h, w) > self.n_position:
            raise UserError(f"model.encoder.n_position: expected at least the feature map's "
                            f"{h} x {w} (got {self.n_position})")
        ratios = [1.0] * n if img_metas is None else [
            meta.get("valid_ratio", 1.0) for meta in img_metas]
        # MMOCR's in-place ``feat += position_enc(feat)``, out of place (same numbers)
        feat = feat + self.position_enc(feat)
        mask = feat.new_zeros((n, h, w))
        for i, ratio in enumerate(ratios):
            mask[i, :, :min(w, math.ceil(w * ratio))] = 1
        mask = mask.view(n, h * w)
        output = feat.view(n, c, h * w).permute(0, 2, 1).contiguous()
        for enc_layer in self.layer_stack:
            output = enc_layer(output, h, w, mask)
        return self.layer_norm(output)

"""``NRTR``, its ``NRTRModalityTransform`` backbone and ``NRTREncoder`` (MMOCR 0.6.3's
``recognizer/nrtr.py``, ``backbones/nrtr_modality_transformer.py``,
``encoders/nrtr_encoder.py``).

The modality transform turns a 32-pixel-high image into a sequence: two stride-2 3x3 convs
(conv -> ReLU -> BN, in that order), then each of the W/4 columns (8 rows x 64 channels = 512
features) through one linear layer; it returns ``(N, 512, 1, W/4)``. The encoder flattens any
``(N, C, H, W)`` map to ``H*W`` positions and runs a stack of pre-norm transformer layers whose
self-attention sees only the first ``ceil(H*W * valid_ratio)`` positions (MMOCR's mask: over
the flattened sequence, so for ``H > 1`` it is not a column mask -- kept, trained weights
depend on it).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.common.base import BaseModule, ModuleList
from ocr_ds.models.common.transformer import TFEncoderLayer
from ocr_ds.models.textrecog.base import BaseEncoder, check_dropout
from ocr_ds.models.textrecog.recognizer import EncodeDecodeRecognizer


class NRTR(EncodeDecodeRecognizer):
    """NRTR: an :class:`EncodeDecodeRecognizer` with MMOCR's name."""


def check_positive_int(value: Any, key: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad_value(key, value, "a positive integer")
    return value


def sequence_mask(seq: torch.Tensor, img_metas: Sequence[dict] | None) -> torch.Tensor | None:
    """MMOCR's ``_get_mask``: ``(N, T)`` ones on the first ``min(T, ceil(T * valid_ratio))``
    positions of each sample of ``seq`` ``(N, T, C)``, zeros after; None without metas."""
    if img_metas is None:
        return None
    n, steps = seq.size(0), seq.size(1)
    mask = seq.new_zeros((n, steps))
    for i, meta in enumerate(img_metas):
        mask[i, :min(steps, math.ceil(steps * meta.get("valid_ratio", 1.0)))] = 1
    return mask


class NRTRModalityTransform(BaseModule):
    """NRTR's convolutional front end.

    Args:
        input_channels: Image channels. Defaults to 3.
        init_cfg: Defaults to Kaiming for Conv2d and Uniform for BatchNorm2d (the linear layer
            keeps torch's initialisation, as in MMOCR).
    """

    def __init__(self, input_channels: int = 3, init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                        dict(type="Uniform", layer="BatchNorm2d")]
        super().__init__(init_cfg=init_cfg)
        check_positive_int(input_channels, "model.backbone.input_channels")
        self.conv_1 = nn.Conv2d(input_channels, 32, kernel_size=3, stride=2, padding=1)
        self.relu_1 = nn.ReLU(True)
        self.bn_1 = nn.BatchNorm2d(32)
        self.conv_2 = nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1)
        self.relu_2 = nn.ReLU(True)
        self.bn_2 = nn.BatchNorm2d(64)
        self.linear = nn.Linear(512, 512)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn_1(self.relu_1(self.conv_1(x)))
        x = self.bn_2(self.relu_2(self.conv_2(x)))
        n, c, h, w = x.size()
        if h * c != self.linear.in_features:
            raise UserError(f"model.backbone: NRTRModalityTransform reads 32-pixel-high images "
                            f"(8 rows x 64 channels = 512 features per column); got images "
                            f"{x.size(2) * 4} high: set the pipeline's ResizeOCR height=32")
        x = x.permute(0, 3, 2, 1).contiguous().view(n, w, h * c)
        x = self.linear(x)
        return x.permute(0, 2, 1).contiguous().view(n, -1, 1, w)


class NRTREncoder(BaseEncoder):
    """A stack of :class:`~ocr_ds.models.common.transformer.TFEncoderLayer` and a final norm.

    Args:
        n_layers: Layers. Defaults to 6.
        n_head, d_k, d_v: Heads and their key/value features. Default to 8, 64, 64.
        d_model: Features of the input map (its channels). Defaults to 512.
        d_inner: Feed-forward width. Defaults to 256.
        dropout: Dropout. Defaults to 0.1.
        init_cfg: Defaults to None.
        **kwargs: More ``TFEncoderLayer`` arguments (``qkv_bias``, ``act_cfg``,
            ``operation_order``).
    """

    def __init__(self, n_layers: int = 6, n_head: int = 8, d_k: int = 64, d_v: int = 64,
                 d_model: int = 512, d_inner: int = 256, dropout: float = 0.1,
                 init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("n_layers", n_layers), ("n_head", n_head), ("d_k", d_k),
                            ("d_v", d_v), ("d_model", d_model), ("d_inner", d_inner)):
            check_positive_int(value, f"model.encoder.{name}")
        check_dropout(dropout, "model.encoder.dropout")
        self.d_model = d_model
        self.layer_stack = ModuleList([
            TFEncoderLayer(d_model, d_inner, n_head, d_k, d_v, dropout=dropout, **kwargs)
            for _ in range(n_layers)])
        self.layer_norm = nn.LayerNorm(d_model)

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None
                ) -> torch.Tensor:
        n, c, h, w = feat.size()
        if c != self.d_model:
            raise UserError(f"model.encoder.d_model: expected the backbone's {c} channels "
                            f"(got {self.d_model})")
        output = feat.view(n, c, h * w).permute(0, 2, 1).contiguous()
        mask = sequence_mask(output, img_metas)
        for enc_layer in self.layer_stack:
            output = enc_layer(output, mask)
        return self.layer_norm(output)

"""MMOCR 0.6.3's own transformer pieces (``mmocr.models.common``), shared by the recognisers.

``ScaledDotProductAttention``, ``MultiHeadAttention`` (separate q/k/v projections ``linear_q``,
``linear_k``, ``linear_v`` and the output ``fc``), ``PositionwiseFeedForward`` (``w_1``,
``w_2``), the fixed sinusoidal ``PositionalEncoding`` (buffer ``position_table``), and the
encoder / decoder layers ``TFEncoderLayer`` and ``TFDecoderLayer`` (NRTR, SATRN, ...), with
MMOCR's names, shapes, initialisation (torch's defaults: MMOCR gives them no ``init_cfg``) and
arithmetic order. mmcv's ``BaseTransformerLayer`` family (MASTER, ABINet) is in
:mod:`.mmcv_transformer`.

``act_cfg`` names: MMOCR's activation table holds none of mmcv's names unscoped, so its layers
take ``'mmcv.GELU'`` / ``'mmcv.ReLU'`` and fail on ``'ReLU'``; ours take both spellings.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.activation import build_activation_layer
from ocr_ds.models.common.base import BaseModule


class ScaledDotProductAttention(nn.Module):
    """``softmax(q k^T / temperature)`` (masked where ``mask == 0``), dropout, times ``v``."""

    def __init__(self, temperature: float, attn_dropout: float = 0.1):
        super().__init__()
        self.temperature = temperature
        self.dropout = nn.Dropout(attn_dropout)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        attn = torch.matmul(q / self.temperature, k.transpose(2, 3))
        if mask is not None:
            attn = attn.masked_fill(mask == 0, float("-inf"))
        attn = self.dropout(F.softmax(attn, dim=-1))
        return torch.matmul(attn, v), attn


class MultiHeadAttention(nn.Module):
    """MMOCR's multi-head attention (``n_head`` heads of ``d_k``/``d_v`` features).

    Args:
        n_head: Heads. Defaults to 8.
        d_model: Features of the output. Defaults to 512.
        d_k, d_v: Features per head of keys and values. Default to 64.
        dropout: Dropout on the attention weights and the output. Defaults to 0.1.
        qkv_bias: Biases on the projections. Defaults to False.
    """

    def __init__(self, n_head: int = 8, d_model: int = 512, d_k: int = 64, d_v: int = 64,
                 dropout: float = 0.1, qkv_bias: bool = False):
        super().__init__()
        self.n_head, self.d_k, self.d_v = n_head, d_k, d_v
        self.dim_k = n_head * d_k
        self.dim_v = n_head * d_v
        self.linear_q = nn.Linear(self.dim_k, self.dim_k, bias=qkv_bias)
        self.linear_k = nn.Linear(self.dim_k, self.dim_k, bias=qkv_bias)
        self.linear_v = nn.Linear(self.dim_v, self.dim_v, bias=qkv_bias)
        self.attention = ScaledDotProductAttention(d_k**0.5, dropout)
        self.fc = nn.Linear(self.dim_v, d_model, bias=qkv_bias)
        self.proj_drop = nn.Dropout(dropout)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        batch_size, len_q, _ = q.size()
        _, len_k, _ = k.size()
        q = self.linear_q(q).view(batch_size, len_q, self.n_head, self.d_k)
        k = self.linear_k(k).view(batch_size, len_k, self.n_head, self.d_k)
        v = self.linear_v(v).view(batch_size, len_k, self.n_head, self.d_v)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        if mask is not None:
            if mask.dim() == 3:
                mask = mask.unsqueeze(1)
            elif mask.dim() == 2:
                mask = mask.unsqueeze(1).unsqueeze(1)
        attn_out, _ = self.attention(q, k, v, mask=mask)
        attn_out = attn_out.transpose(1, 2).contiguous().view(batch_size, len_q, self.dim_v)
        return self.proj_drop(self.fc(attn_out))


class PositionwiseFeedForward(nn.Module):
    """``w_2(act(w_1(x)))`` then dropout.

    MMOCR's default ``act_cfg=dict(type='Relu')`` names no activation MMOCR has (building one
    with it fails there); every MMOCR caller passes its own, and so must ours.
    """

    def __init__(self, d_in: int, d_hid: int, dropout: float = 0.1,
                 act_cfg: Mapping = {"type": "Relu"}):  # noqa: B006 (MMOCR's default)
        super().__init__()
        self.w_1 = nn.Linear(d_in, d_hid)
        self.w_2 = nn.Linear(d_hid, d_in)
        self.act = build_activation_layer(act_cfg)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.w_2(self.act(self.w_1(x))))


class PositionalEncoding(nn.Module):
    """Fixed sine/cosine positions added to ``x`` of shape ``(N, T, d_hid, ...)``.

    Args:
        d_hid: Features. Defaults to 512.
        n_position: Longest sequence. Defaults to 200.
        dropout: Dropout after adding. Defaults to 0.
    """

    def __init__(self, d_hid: int = 512, n_position: int = 200, dropout: float = 0):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        self.register_buffer("position_table",
                             self._get_sinusoid_encoding_table(n_position, d_hid))

    @staticmethod
    def _get_sinusoid_encoding_table(n_position: int, d_hid: int) -> torch.Tensor:
        # float32 from numpy's float64 powers, as MMOCR computes it (the same bits)
        denominator = torch.Tensor([1.0 / np.power(10000, 2 * (j // 2) / d_hid)
                                    for j in range(d_hid)]).view(1, -1)
        table = torch.arange(n_position).unsqueeze(-1).float() * denominator
        table[:, 0::2] = torch.sin(table[:, 0::2])
        table[:, 1::2] = torch.cos(table[:, 1::2])
        return table.unsqueeze(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(x + self.position_table[:, :x.size(1)].clone().detach())


_ENCODER_ORDERS = (("norm", "self_attn", "norm", "ffn"), ("self_attn", "norm", "ffn", "norm"))
_DECODER_ORDERS = (("norm", "self_attn", "norm", "enc_dec_attn", "norm", "ffn"),
                   ("self_attn", "norm", "enc_dec_attn", "norm", "ffn", "norm"))


def _order(order: tuple | list | None, allowed: tuple, key: str) -> tuple:
    order = allowed[0] if order is None else tuple(order)
    if order not in allowed:
        raise UserError(f"{key}: expected one of {', '.join(map(repr, allowed))} "
                        f"(got {order!r})")
    return order


class TFEncoderLayer(BaseModule):
    """Transformer encoder layer: self-attention and feed-forward, pre- or post-norm.

    Args:
        d_model: Features. Defaults to 512.
        d_inner: Feed-forward width. Defaults to 256.
        n_head, d_k, d_v, dropout, qkv_bias: as :class:`MultiHeadAttention`.
        act_cfg: Feed-forward activation. Defaults to ``dict(type='mmcv.GELU')``.
        operation_order: ``('norm', 'self_attn', 'norm', 'ffn')`` (the default, pre-norm) or
            ``('self_attn', 'norm', 'ffn', 'norm')``.
    """

    def __init__(self, d_model: int = 512, d_inner: int = 256, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, dropout: float = 0.1, qkv_bias: bool = False,
                 act_cfg: Mapping = {"type": "mmcv.GELU"},  # noqa: B006 (MMOCR's default)
                 operation_order: tuple | None = None):
        super().__init__()
        self.attn = MultiHeadAttention(n_head, d_model, d_k, d_v, qkv_bias=qkv_bias,
                                       dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.mlp = PositionwiseFeedForward(d_model, d_inner, dropout=dropout, act_cfg=act_cfg)
        self.norm2 = nn.LayerNorm(d_model)
        self.operation_order = _order(operation_order, _ENCODER_ORDERS, "operation_order")

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.operation_order == ("self_attn", "norm", "ffn", "norm"):
            x = self.norm1(x + self.attn(x, x, x, mask))
            return self.norm2(x + self.mlp(x))
        residual = x
        x = self.norm1(x)
        x = residual + self.attn(x, x, x, mask)
        return x + self.mlp(self.norm2(x))


class TFDecoderLayer(nn.Module):
    """Transformer decoder layer: self-attention, encoder-decoder attention, feed-forward.

    Args: as :class:`TFEncoderLayer`; ``operation_order`` is
    ``('norm', 'self_attn', 'norm', 'enc_dec_attn', 'norm', 'ffn')`` (the default) or
    ``('self_attn', 'norm', 'enc_dec_attn', 'norm', 'ffn', 'norm')``.
    """

    def __init__(self, d_model: int = 512, d_inner: int = 256, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, dropout: float = 0.1, qkv_bias: bool = False,
                 act_cfg: Mapping = {"type": "mmcv.GELU"},  # noqa: B006 (MMOCR's default)
                 operation_order: tuple | None = None):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.self_attn = MultiHeadAttention(n_head, d_model, d_k, d_v, dropout=dropout,
                                            qkv_bias=qkv_bias)
        self.enc_attn = MultiHeadAttention(n_head, d_model, d_k, d_v, dropout=dropout,
                                           qkv_bias=qkv_bias)
        self.mlp = PositionwiseFeedForward(d_model, d_inner, dropout=dropout, act_cfg=act_cfg)
        self.operation_order = _order(operation_order, _DECODER_ORDERS, "operation_order")

    def forward(self, dec_input: torch.Tensor, enc_output: torch.Tensor,
                self_attn_mask: torch.Tensor | None = None,
                dec_enc_attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.operation_order == _DECODER_ORDERS[1]:
            out = self.self_attn(dec_input, dec_input, dec_input, self_attn_mask)
            out = self.norm1(out + dec_input)
            cross = self.enc_attn(out, enc_output, enc_output, dec_enc_attn_mask)
            cross = self.norm2(cross + out)
            return self.norm3(self.mlp(cross) + cross)
        normed = self.norm1(dec_input)
        out = self.self_attn(normed, normed, normed, self_attn_mask) + dec_input
        cross = self.enc_attn(self.norm2(out), enc_output, enc_output, dec_enc_attn_mask) + out
        return self.mlp(self.norm3(cross)) + cross

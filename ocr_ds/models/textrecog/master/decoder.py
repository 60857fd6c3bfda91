"""MASTER's decoder (MMOCR 0.6.3's ``decoders/master_decoder.py``).

The backbone map ``(N, E, H, W)`` is flattened to ``H*W`` positions and given a sinusoidal
position encoding (with dropout ``feat_pe_drop``: the "encoder" MASTER's config leaves out).
Token embeddings (``sqrt(E)``-scaled) plus positions run through ``n_layers`` pre-norm mmcv
transformer layers (self-attention under a causal and padding mask, cross-attention to the
map, FFN), a final LayerNorm and a linear classifier over all ``num_classes`` classes (the
padding class included, as in MMOCR).

* training: teacher forcing on ``padded_targets`` (``[start, chars..., end, pad...]``);
* testing: greedy decoding, ``max_seq_len`` steps, each re-running the decoder on the whole
  prefix (as MMOCR: a query row holding a padding token attends to every position, so the
  steps are not incremental); the output is the *last step's logits* ``(N, max_seq_len, C)``,
  not probabilities -- MMOCR's MASTER scores characters by raw logits.

Initialisation is MMOCR's: one decoder layer is built and deep-copied ``n_layers`` times (all
layers start equal), every layer keeps torch's default init (no ``init_cfg`` reaches them).
"""
from __future__ import annotations

import copy
import math
from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.common.base import ModuleList
from ocr_ds.models.common.mmcv_transformer import BaseTransformerLayer
from ocr_ds.models.common.transformer import PositionalEncoding
from ocr_ds.models.textrecog.base import BaseDecoder, check_dropout
from ocr_ds.translate.values import positive_int

KEY = "model.decoder"


class Embeddings(nn.Module):
    """Token embedding (child ``lut``) scaled by ``sqrt(d_model)``."""

    def __init__(self, d_model: int, vocab: int):
        super().__init__()
        self.lut = nn.Embedding(vocab, d_model)
        self.d_model = d_model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lut(x) * math.sqrt(self.d_model)


class MasterDecoder(BaseDecoder):
    """Decoder of MASTER.

    Args:
        start_idx, padding_idx: Indices of the start and padding tokens (from the convertor).
        num_classes: Classes :math:`C` (from the convertor). Defaults to 93.
        n_layers: Decoder layers. Defaults to 3.
        n_head: Attention heads. Defaults to 8.
        d_model: Features :math:`E` of the backbone map. Defaults to 512.
        feat_size: Positions of the flattened map the position encoding covers (at least
            ``H * W``). Defaults to ``6 * 40``.
        d_inner: FFN width. Defaults to 2048.
        attn_drop: Dropout on the attention weights and outputs. Defaults to 0.
        ffn_drop: Dropout in and after the FFN. Defaults to 0.
        feat_pe_drop: Dropout after the map's position encoding. Defaults to 0.2.
        max_seq_len: Decoded length :math:`T`. Defaults to 30.
        init_cfg: Defaults to None.
    """

    def __init__(self, start_idx: int, padding_idx: int, num_classes: int = 93,
                 n_layers: int = 3, n_head: int = 8, d_model: int = 512,
                 feat_size: int = 6 * 40, d_inner: int = 2048, attn_drop: float = 0.0,
                 ffn_drop: float = 0.0, feat_pe_drop: float = 0.2, max_seq_len: int = 30,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("n_layers", n_layers), ("n_head", n_head), ("d_model", d_model),
                            ("feat_size", feat_size), ("d_inner", d_inner)):
            positive_int(value, f"{KEY}.{name}")
        if d_model % n_head:
            raise bad_value(f"{KEY}.n_head", n_head, f"a divisor of d_model={d_model}")
        for name, value in (("attn_drop", attn_drop), ("ffn_drop", ffn_drop),
                            ("feat_pe_drop", feat_pe_drop)):
            check_dropout(value, f"{KEY}.{name}")
        layer = BaseTransformerLayer(
            operation_order=("norm", "self_attn", "norm", "cross_attn", "norm", "ffn"),
            attn_cfgs=dict(type="MultiheadAttention", embed_dims=d_model, num_heads=n_head,
                           attn_drop=attn_drop,
                           dropout_layer=dict(type="Dropout", drop_prob=attn_drop)),
            ffn_cfgs=dict(type="FFN", embed_dims=d_model, feedforward_channels=d_inner,
                          ffn_drop=ffn_drop,
                          dropout_layer=dict(type="Dropout", drop_prob=ffn_drop)),
            norm_cfg=dict(type="LN"), batch_first=True)
        # copies of one layer: no further random draws, every layer starts equal (MMOCR's)
        self.decoder_layers = ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])
        self.cls = nn.Linear(d_model, num_classes)
        self.SOS = start_idx
        self.PAD = padding_idx
        self.max_seq_len = max_seq_len
        self.feat_size = feat_size
        self.n_head = n_head
        self.embedding = Embeddings(d_model=d_model, vocab=num_classes)
        self.positional_encoding = PositionalEncoding(d_hid=d_model,
                                                      n_position=max_seq_len + 1)
        self.feat_positional_encoding = PositionalEncoding(d_hid=d_model, n_position=feat_size,
                                                           dropout=feat_pe_drop)
        self.norm = nn.LayerNorm(d_model)

    def make_mask(self, tgt: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Additive self-attention mask ``(N * n_head, T, T)``: 0 where a query may look,
        -1e9 at later positions and on every row whose query token is padding."""
        pad_rows = (tgt != self.PAD).unsqueeze(1).unsqueeze(3).bool()
        length = tgt.size(1)
        causal = torch.tril(torch.ones((length, length), dtype=torch.bool, device=device))
        allowed = pad_rows & causal
        mask = allowed.float().masked_fill_(~allowed, -1e9).masked_fill_(allowed, 0)
        return mask.repeat(1, self.n_head, 1, 1).view(-1, length, length)

    def decode(self, tokens: torch.Tensor, feature: torch.Tensor,
               src_mask: torch.Tensor | None, tgt_mask: torch.Tensor) -> torch.Tensor:
        x = self.positional_encoding(self.embedding(tokens))
        # the float mask in the activations' dtype (bf16 training; a no-op in fp32)
        attn_masks = [tgt_mask.to(x.dtype), src_mask]
        for layer in self.decoder_layers:
            x = layer(query=x, key=feature, value=feature, attn_masks=attn_masks)
        return self.cls(self.norm(x))

    def greedy_forward(self, sos: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
        tokens, output = sos, None
        for _ in range(self.max_seq_len):
            output = self.decode(tokens, feature, None, self.make_mask(tokens, feature.device))
            # argmax of the softmax, as MMOCR (ties resolve as there)
            _, next_word = torch.max(F.softmax(output, dim=-1), dim=-1)
            tokens = torch.cat([tokens, next_word[:, -1].unsqueeze(-1)], dim=1)
        return output

    def _encode(self, feat: torch.Tensor, out_enc: torch.Tensor | None) -> torch.Tensor:
        """The flattened map ``(N, H*W, E)`` plus its positions (unless an encoder ran)."""
        if feat.dim() > 3:
            b, c, h, w = feat.shape
            feat = feat.view(b, c, h * w).permute((0, 2, 1))
        if out_enc is not None:
            return out_enc
        if feat.size(1) > self.feat_size:
            raise UserError(f"{KEY}.feat_size: expected at least the {feat.size(1)} positions "
                            f"(H*W) of the backbone map (got {self.feat_size})")
        return self.feat_positional_encoding(feat)

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor | None,
                      targets_dict: Mapping[str, Any] | torch.Tensor,
                      img_metas: Sequence[dict] | None = None) -> torch.Tensor:
        """Teacher forcing: logits ``(N, T, C)`` for ``padded_targets`` ``(N, T)``."""
        out_enc = self._encode(feat, out_enc)
        targets = (targets_dict["padded_targets"] if isinstance(targets_dict, Mapping)
                   else targets_dict).to(feat.device)
        return self.decode(targets, out_enc, None, self.make_mask(targets, out_enc.device))

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor | None,
                     img_metas: Sequence[dict] | None = None) -> torch.Tensor:
        """Greedy decoding: the last step's logits ``(N, max_seq_len, C)``."""
        out_enc = self._encode(feat, out_enc)
        sos = torch.full((out_enc.shape[0], 1), self.SOS, dtype=torch.long,
                         device=out_enc.device)
        return self.greedy_forward(sos, out_enc)

"""``NRTRDecoder`` (MMOCR 0.6.3's ``decoders/nrtr_decoder.py``): the transformer decoder of NRTR
and SATRN.

Target embeddings (``padding_idx`` row zero) plus fixed sinusoidal positions, then a stack of
:class:`~ocr_ds.models.common.transformer.TFDecoderLayer` (causal self-attention that also
ignores ``<PAD>`` positions; attention over the encoder output masked to its first
``ceil(T * valid_ratio)`` positions), a final LayerNorm (eps 1e-6) and a linear classifier over
``num_classes - 1`` classes (never ``<PAD>``).

* training: teacher forcing on ``padded_targets`` (raw logits);
* testing: greedy decoding from the start token for ``max_seq_len`` steps; each step's softmax
  over the classes is the output of that step.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import ModuleList
from ocr_ds.models.common.transformer import PositionalEncoding, TFDecoderLayer
from ocr_ds.models.textrecog.base import BaseDecoder, check_dropout
from ocr_ds.models.textrecog.nrtr.nrtr import check_positive_int, sequence_mask


class NRTRDecoder(BaseDecoder):
    """Transformer decoder.

    Args:
        n_layers: Layers. Defaults to 6.
        d_embedding: Target embedding features. Defaults to 512.
        n_head, d_k, d_v: Heads and their key/value features. Default to 8, 64, 64.
        d_model: Features of the layers (the encoder output's). Defaults to 512.
        d_inner: Feed-forward width. Defaults to 256.
        n_position: Positions of the sinusoid table (more than ``max_seq_len``).
            Defaults to 200.
        dropout: Dropout. Defaults to 0.1.
        num_classes, max_seq_len, start_idx, padding_idx: Set by the recogniser from its
            convertor. Default to 93, 40, 1, 92.
        init_cfg: Defaults to None.
        **kwargs: More ``TFDecoderLayer`` arguments (``qkv_bias``, ``act_cfg``,
            ``operation_order``).
    """

    def __init__(self, n_layers: int = 6, d_embedding: int = 512, n_head: int = 8, d_k: int = 64,
                 d_v: int = 64, d_model: int = 512, d_inner: int = 256, n_position: int = 200,
                 dropout: float = 0.1, num_classes: int = 93, max_seq_len: int = 40,
                 start_idx: int = 1, padding_idx: int = 92, init_cfg: Any = None,
                 **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("n_layers", n_layers), ("d_embedding", d_embedding),
                            ("n_head", n_head), ("d_k", d_k), ("d_v", d_v),
                            ("d_model", d_model), ("d_inner", d_inner),
                            ("n_position", n_position)):
            check_positive_int(value, f"model.decoder.{name}")
        check_dropout(dropout, "model.decoder.dropout")
        if n_position <= max_seq_len:
            raise UserError(f"model.decoder.n_position: expected more than max_seq_len "
                            f"({max_seq_len}) positions (got {n_position})")
        self.padding_idx = padding_idx
        self.start_idx = start_idx
        self.max_seq_len = max_seq_len
        self.trg_word_emb = nn.Embedding(num_classes, d_embedding, padding_idx=padding_idx)
        self.position_enc = PositionalEncoding(d_embedding, n_position=n_position)
        self.dropout = nn.Dropout(p=dropout)
        self.layer_stack = ModuleList([
            TFDecoderLayer(d_model, d_inner, n_head, d_k, d_v, dropout=dropout, **kwargs)
            for _ in range(n_layers)])
        self.layer_norm = nn.LayerNorm(d_model, eps=1e-6)
        self.classifier = nn.Linear(d_model, num_classes - 1)  # never <PAD>

    @staticmethod
    def get_pad_mask(seq: torch.Tensor, pad_idx: int) -> torch.Tensor:
        return (seq != pad_idx).unsqueeze(-2)

    @staticmethod
    def get_subsequent_mask(seq: torch.Tensor) -> torch.Tensor:
        """``(1, T, T)``: position i attends to positions <= i."""
        len_s = seq.size(1)
        return torch.tril(torch.ones((len_s, len_s), dtype=torch.bool, device=seq.device)
                          ).unsqueeze(0)

    def _attention(self, trg_seq: torch.Tensor, src: torch.Tensor,
                   src_mask: torch.Tensor | None = None) -> torch.Tensor:
        tgt = self.dropout(self.position_enc(self.trg_word_emb(trg_seq)))
        trg_mask = self.get_pad_mask(trg_seq, self.padding_idx) & self.get_subsequent_mask(trg_seq)
        output = tgt
        for dec_layer in self.layer_stack:
            output = dec_layer(output, src, self_attn_mask=trg_mask, dec_enc_attn_mask=src_mask)
        return self.layer_norm(output)

    def forward_train(self, feat: Any, out_enc: torch.Tensor, targets_dict: Mapping[str, Any],
                      img_metas: Sequence[dict] | None) -> torch.Tensor:
        src_mask = sequence_mask(out_enc, img_metas)
        targets = targets_dict["padded_targets"].to(out_enc.device)
        return self.classifier(self._attention(targets, out_enc, src_mask=src_mask))

    def forward_test(self, feat: Any, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        src_mask = sequence_mask(out_enc, img_metas)
        n = out_enc.size(0)
        trg_seq = torch.full((n, self.max_seq_len + 1), self.padding_idx,
                             device=out_enc.device, dtype=torch.long)
        trg_seq[:, 0] = self.start_idx
        outputs = []
        for step in range(self.max_seq_len):
            decoder_output = self._attention(trg_seq, out_enc, src_mask=src_mask)
            step_result = F.softmax(self.classifier(decoder_output[:, step, :]), dim=-1)
            outputs.append(step_result)
            trg_seq[:, step + 1] = torch.max(step_result, dim=-1)[1]
        return torch.stack(outputs, dim=1)

"""RobustScanner's two attention branches (MMOCR 0.6.3's ``sequence_attention_decoder.py``,
``position_attention_decoder.py`` and the layers they use).

Both attend with scaled-less dot products over the ``h*w`` positions of the encoder map
(``key``), reading the backbone map (``value``; the encoder map with ``encode_value``), with
positions beyond ``ceil(w * valid_ratio)`` masked:

* ``SequenceAttentionDecoder`` (hybrid branch): the query is an LSTM over the character
  embeddings -- the targets in training, the greedy history in testing (re-run over the whole
  history at each step, as MMOCR).
* ``PositionAttentionDecoder`` (position branch): the query is a learnt embedding of the step
  index; the key goes through ``PositionAwareLayer`` (a row-wise LSTM, then two 3x3 convs).

With ``return_feature`` (what ``RobustScannerDecoder`` asks for) they return the glimpses
``(N, T, D)`` instead of logits.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.textrecog.base import BaseDecoder, valid_ratios, valid_widths


def position_mask(ratios: Sequence[float] | None, n: int, h: int, w: int,
                  like: torch.Tensor) -> torch.Tensor | None:
    """``(N, h*w)`` bool, True beyond each sample's valid width; None when not masking."""
    if ratios is None:
        return None
    mask = like.new_zeros((n, h, w))
    for i, valid_width in enumerate(valid_widths(ratios, w)):
        mask[i, :, valid_width:] = 1
    return mask.bool().view(n, h * w)


class DotProductAttentionLayer(nn.Module):
    """``softmax(q^T k * scale) v``; ``query (N, D, Lq)``, ``key (N, D, Lk)``, ``value (N, Dv, Lk)``.

    Args:
        dim_model: Scale by ``dim_model ** -0.5`` (None: no scaling). Defaults to None.
    """

    def __init__(self, dim_model: int | None = None):
        super().__init__()
        self.scale = dim_model ** -0.5 if dim_model is not None else 1.0

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        logits = torch.matmul(query.permute(0, 2, 1), key) * self.scale
        if mask is not None:
            n, seq_len = mask.size()
            logits = logits.masked_fill(mask.view(n, 1, seq_len), float("-inf"))
        weights = F.softmax(logits, dim=2)
        glimpse = torch.matmul(weights, value.transpose(1, 2))
        return glimpse.permute(0, 2, 1).contiguous()  # N, Dv, Lq


class PositionAwareLayer(nn.Module):
    """A row-wise LSTM over the map, then conv-relu-conv (MMOCR's ``PositionAwareLayer``)."""

    def __init__(self, dim_model: int, rnn_layers: int = 2):
        super().__init__()
        self.dim_model = dim_model
        self.rnn = nn.LSTM(input_size=dim_model, hidden_size=dim_model, num_layers=rnn_layers,
                           batch_first=True)
        self.mixer = nn.Sequential(
            nn.Conv2d(dim_model, dim_model, kernel_size=3, stride=1, padding=1),
            nn.ReLU(True),
            nn.Conv2d(dim_model, dim_model, kernel_size=3, stride=1, padding=1))

    def forward(self, img_feature: torch.Tensor) -> torch.Tensor:
        n, c, h, w = img_feature.size()
        rnn_input = img_feature.permute(0, 2, 3, 1).contiguous().view(n * h, w, c)
        rnn_output, _ = self.rnn(rnn_input)
        rnn_output = rnn_output.view(n, h, w, c).permute(0, 3, 1, 2).contiguous()
        return self.mixer(rnn_output)


def _key_value(feat: torch.Tensor, out_enc: torch.Tensor, key_map: torch.Tensor,
               dim_input: int, dim_model: int, encode_value: bool
               ) -> tuple[torch.Tensor, torch.Tensor]:
    n, c_enc, h, w = out_enc.size()
    if c_enc != dim_model:
        raise ValueError(f"encoder output has {c_enc} channels, expected dim_model={dim_model}")
    if feat.size(1) != dim_input:
        raise ValueError(f"backbone output has {feat.size(1)} channels, expected "
                         f"dim_input={dim_input}")
    key = key_map.view(n, c_enc, h * w)
    value = out_enc.view(n, c_enc, h * w) if encode_value else feat.view(n, feat.size(1), h * w)
    return key, value


class SequenceAttentionDecoder(BaseDecoder):
    """RobustScanner's hybrid branch.

    Args:
        num_classes: Classes :math:`C`. Defaults to None (set by the parent).
        rnn_layers: LSTM layers. Defaults to 2.
        dim_input: Channels :math:`D_i` of the backbone map. Defaults to 512.
        dim_model: Channels :math:`D_m` of the encoder map. Defaults to 128.
        max_seq_len: Decoding steps. Defaults to 40.
        start_idx: Start token. Defaults to 0.
        mask: Mask by ``valid_ratio``. Defaults to True.
        padding_idx: Padding token (a zero embedding). Defaults to None.
        dropout: Dropout between the LSTM layers. Defaults to 0.
        return_feature: Return glimpses, not logits. Defaults to False.
        encode_value: Attend over the encoder map instead of the backbone map. Defaults to False.
        init_cfg: Defaults to None.
    """

    def __init__(self, num_classes: int | None = None, rnn_layers: int = 2,
                 dim_input: int = 512, dim_model: int = 128, max_seq_len: int = 40,
                 start_idx: int = 0, mask: bool = True, padding_idx: int | None = None,
                 dropout: float = 0, return_feature: bool = False, encode_value: bool = False,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.dim_input = dim_input
        self.dim_model = dim_model
        self.return_feature = return_feature
        self.encode_value = encode_value
        self.max_seq_len = max_seq_len
        self.start_idx = start_idx
        self.mask = mask
        self.embedding = nn.Embedding(num_classes, dim_model, padding_idx=padding_idx)
        self.sequence_layer = nn.LSTM(input_size=dim_model, hidden_size=dim_model,
                                      num_layers=rnn_layers, batch_first=True, dropout=dropout)
        self.attention_layer = DotProductAttentionLayer()
        self.prediction = None
        if not return_feature:
            self.prediction = nn.Linear(dim_model if encode_value else dim_input,
                                        num_classes - 1)

    def _context(self, feat: torch.Tensor, out_enc: torch.Tensor,
                 img_metas: Sequence[dict] | None, like: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The attention's key, value and mask (the same at every step)."""
        n, _, h, w = out_enc.size()
        key, value = _key_value(feat, out_enc, out_enc, self.dim_input, self.dim_model,
                                self.encode_value)
        return key, value, position_mask(valid_ratios(img_metas, self.mask), n, h, w, like)

    def _attend(self, feat: torch.Tensor, out_enc: torch.Tensor, embed: torch.Tensor,
                img_metas: Sequence[dict] | None) -> torch.Tensor:
        """Glimpses ``(N, D, L)`` for the query LSTM run over ``embed`` ``(N, L, D_m)``."""
        query, _ = self.sequence_layer(embed)
        query = query.permute(0, 2, 1).contiguous()
        key, value, mask = self._context(feat, out_enc, img_metas, query)
        return self.attention_layer(query, key, value, mask)

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor,
                      targets_dict: Mapping[str, Any], img_metas: Sequence[dict] | None
                      ) -> torch.Tensor:
        targets = targets_dict["padded_targets"].to(feat.device)
        attn_out = self._attend(feat, out_enc, self.embedding(targets), img_metas)
        attn_out = attn_out.permute(0, 2, 1).contiguous()
        if self.return_feature:
            return attn_out
        return self.prediction(attn_out)

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        seq_len = self.max_seq_len
        if not self.training:
            steps = self.greedy_steps(feat, out_enc, img_metas)
            token = torch.full((feat.size(0),), self.start_idx, dtype=torch.long,
                               device=feat.device)
            outputs = []
            for _ in range(seq_len):
                step_out = steps.send(token)
                outputs.append(step_out)
                token = torch.max(step_out, dim=1)[1]
            return torch.stack(outputs, 1)
        # a long tensor from the start: a half-precision one cannot hold every class index
        decode_sequence = torch.full((feat.size(0), seq_len), self.start_idx, dtype=torch.long,
                                     device=feat.device)
        outputs = []
        for i in range(seq_len):
            step_out = self.forward_test_step(feat, out_enc, decode_sequence, i, img_metas)
            outputs.append(step_out)
            _, max_idx = torch.max(step_out, dim=1, keepdim=False)
            if i < seq_len - 1:
                decode_sequence[:, i + 1] = max_idx
        return torch.stack(outputs, 1)

    def greedy_steps(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None):
        """A generator: send the token of step ``i`` ``(N,)``, receive that step's output, what
        ``forward_test_step(..., i, ...)`` returns for the history sent so far.

        MMOCR re-runs the LSTM over the whole history at every step and keeps one position;
        the LSTM being one-directional, the position is computed alone from the carried state
        (the same numbers to float rounding). Eval mode only: with dropout between the LSTM
        layers in training mode, only MMOCR's way draws MMOCR's random numbers.
        """
        def steps():
            token = yield
            state = None
            key = value = mask = None
            while True:
                query, state = self.sequence_layer(self.embedding(token).unsqueeze(1), state)
                query = query.permute(0, 2, 1).contiguous()  # N, D_m, 1
                if key is None:
                    key, value, mask = self._context(feat, out_enc, img_metas, query)
                out = self.attention_layer(query, key, value, mask)[:, :, 0]
                if not self.return_feature:
                    out = F.softmax(self.prediction(out), dim=-1)
                token = yield out

        gen = steps()
        next(gen)
        return gen

    def forward_test_step(self, feat: torch.Tensor, out_enc: torch.Tensor,
                          decode_sequence: torch.Tensor, current_step: int,
                          img_metas: Sequence[dict] | None) -> torch.Tensor:
        """Step ``current_step`` of greedy decoding: glimpse ``(N, D)`` or softmax ``(N, C-1)``."""
        attn_out = self._attend(feat, out_enc, self.embedding(decode_sequence), img_metas)
        out = attn_out[:, :, current_step]
        if self.return_feature:
            return out
        return F.softmax(self.prediction(out), dim=-1)


class PositionAttentionDecoder(BaseDecoder):
    """RobustScanner's position branch (arguments as :class:`SequenceAttentionDecoder`; no
    ``start_idx``/``padding_idx``/``dropout``)."""

    def __init__(self, num_classes: int | None = None, rnn_layers: int = 2,
                 dim_input: int = 512, dim_model: int = 128, max_seq_len: int = 40,
                 mask: bool = True, return_feature: bool = False, encode_value: bool = False,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.dim_input = dim_input
        self.dim_model = dim_model
        self.max_seq_len = max_seq_len
        self.return_feature = return_feature
        self.encode_value = encode_value
        self.mask = mask
        self.embedding = nn.Embedding(max_seq_len + 1, dim_model)
        self.position_aware_module = PositionAwareLayer(dim_model, rnn_layers)
        self.attention_layer = DotProductAttentionLayer()
        self.prediction = None
        if not return_feature:
            self.prediction = nn.Linear(dim_model if encode_value else dim_input,
                                        num_classes - 1)

    def _get_position_index(self, length: int, batch_size: int,
                            device: torch.device | None = None) -> torch.Tensor:
        return torch.arange(0, length, device=device).repeat([batch_size, 1]).long()

    def _decode(self, feat: torch.Tensor, out_enc: torch.Tensor, length: int,
                img_metas: Sequence[dict] | None) -> torch.Tensor:
        ratios = valid_ratios(img_metas, self.mask)
        n, _, h, w = out_enc.size()
        position_index = self._get_position_index(length, n, feat.device)
        position_out_enc = self.position_aware_module(out_enc)
        query = self.embedding(position_index).permute(0, 2, 1).contiguous()
        key, value = _key_value(feat, out_enc, position_out_enc, self.dim_input,
                                self.dim_model, self.encode_value)
        mask = position_mask(ratios, n, h, w, query)
        attn_out = self.attention_layer(query, key, value, mask)
        attn_out = attn_out.permute(0, 2, 1).contiguous()  # N, length, D
        if self.return_feature:
            return attn_out
        return self.prediction(attn_out)

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor,
                      targets_dict: Mapping[str, Any], img_metas: Sequence[dict] | None
                      ) -> torch.Tensor:
        length = targets_dict["padded_targets"].size(1)
        if length > self.max_seq_len:
            raise ValueError(f"targets of length {length} exceed max_seq_len={self.max_seq_len}")
        return self._decode(feat, out_enc, length, img_metas)

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        return self._decode(feat, out_enc, self.max_seq_len, img_metas)

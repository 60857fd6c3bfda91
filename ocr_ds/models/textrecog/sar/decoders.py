"""SAR's decoders (MMOCR 0.6.3's ``decoders/sar_decoder.py``): 2-D attention over the backbone
map, guided by an LSTM over the previous characters.

* ``ParallelSARDecoder``: one 2-layer LSTM over ``[holistic feature, embeddings...]``. Training
  feeds the target embeddings (teacher forcing); testing starts from the start token and, at
  each step, re-runs the whole sequence with the last prediction written in (as MMOCR: greedy,
  ``max_seq_len`` steps, softmax outputs).
* ``SequentialSARDecoder``: two LSTM cells stepped one character at a time.

Both mask the attention beyond ``ceil(W * valid_ratio)`` columns, predict ``num_classes - 1``
classes (never ``<PAD>``) and apply the prediction dropout only in training mode.
``SequentialSARDecoder`` keeps an MMOCR quirk: after the first step the cells' memory is
replaced by their hidden state (``return y, hx1, hx1, hx2, hx2``), which trained MMOCR weights
depend on.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.textrecog.base import (BaseDecoder, check_bool, check_dropout, valid_ratios,
                                          valid_widths)


def mask_columns(attn_weight: torch.Tensor, ratios: Sequence[float] | None) -> torch.Tensor:
    """``-inf`` where a column (dim 3) lies beyond the sample's valid width."""
    if ratios is None:
        return attn_weight
    width = attn_weight.size(3)
    mask = torch.zeros_like(attn_weight)
    for i, valid_width in enumerate(valid_widths(ratios, width)):
        mask[i, :, :, valid_width:] = 1
    return attn_weight.masked_fill(mask.bool(), float("-inf"))


class ParallelSARDecoder(BaseDecoder):
    """SAR's parallel decoder.

    Args:
        num_classes: Classes :math:`C` (set by the recogniser). Defaults to 37.
        enc_bi_rnn: Whether the encoder RNN was bidirectional. Defaults to False.
        dec_bi_rnn: Bidirectional decoder RNN. Defaults to False.
        dec_do_rnn: Dropout between the decoder RNN layers. Defaults to 0.0.
        dec_gru: GRU instead of LSTM. Defaults to False.
        d_model: Channels of the backbone map :math:`D_i`. Defaults to 512.
        d_enc: Hidden size of the encoder RNN :math:`D_m`. Defaults to 512.
        d_k: Channels of the attention. Defaults to 64.
        pred_dropout: Dropout on the predictions (training mode only). Defaults to 0.0.
        max_seq_len: Decoding steps (set by the recogniser). Defaults to 40.
        mask: Mask the attention by ``valid_ratio``. Defaults to True.
        start_idx, padding_idx: Set by the recogniser. Defaults to 0 and 92.
        pred_concat: Predict from ``[hidden, glimpse, holistic]`` (else the glimpse only).
            Defaults to False.
        init_cfg: Defaults to None.
    """

    def __init__(self, num_classes: int = 37, enc_bi_rnn: bool = False, dec_bi_rnn: bool = False,
                 dec_do_rnn: float = 0.0, dec_gru: bool = False, d_model: int = 512,
                 d_enc: int = 512, d_k: int = 64, pred_dropout: float = 0.0,
                 max_seq_len: int = 40, mask: bool = True, start_idx: int = 0,
                 padding_idx: int = 92, pred_concat: bool = False, init_cfg: Any = None,
                 **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("enc_bi_rnn", enc_bi_rnn), ("dec_bi_rnn", dec_bi_rnn),
                            ("dec_gru", dec_gru), ("mask", mask), ("pred_concat", pred_concat)):
            check_bool(value, f"model.decoder.{name}")
        check_dropout(dec_do_rnn, "model.decoder.dec_do_rnn")
        check_dropout(pred_dropout, "model.decoder.pred_dropout")
        self.num_classes = num_classes
        self.enc_bi_rnn = enc_bi_rnn
        self.d_k = d_k
        self.start_idx = start_idx
        self.max_seq_len = max_seq_len
        self.mask = mask
        self.pred_concat = pred_concat

        encoder_rnn_out_size = d_enc * (int(enc_bi_rnn) + 1)
        decoder_rnn_out_size = encoder_rnn_out_size * (int(dec_bi_rnn) + 1)
        # 2-D attention (MMOCR's names: the "conv1x1"s of this decoder are Linear layers)
        self.conv1x1_1 = nn.Linear(decoder_rnn_out_size, d_k)
        self.conv3x3_1 = nn.Conv2d(d_model, d_k, kernel_size=3, stride=1, padding=1)
        self.conv1x1_2 = nn.Linear(d_k, 1)
        rnn = nn.GRU if dec_gru else nn.LSTM
        self.rnn_decoder = rnn(input_size=encoder_rnn_out_size, hidden_size=encoder_rnn_out_size,
                               num_layers=2, batch_first=True, dropout=dec_do_rnn,
                               bidirectional=dec_bi_rnn)
        self.embedding = nn.Embedding(num_classes, encoder_rnn_out_size, padding_idx=padding_idx)
        self.pred_dropout = nn.Dropout(pred_dropout)
        fc_in = (decoder_rnn_out_size + d_model + encoder_rnn_out_size) if pred_concat else d_model
        self.prediction = nn.Linear(fc_in, num_classes - 1)  # never <PAD>

    def _2d_attention(self, decoder_input: torch.Tensor, feat: torch.Tensor,
                      holistic_feat: torch.Tensor, ratios: Sequence[float] | None = None
                      ) -> torch.Tensor:
        y = self.rnn_decoder(decoder_input)[0]  # N, T+1, hidden
        return self._attend(y, self.conv3x3_1(feat).unsqueeze(1), feat, holistic_feat, ratios)

    def _attend(self, y: torch.Tensor, attn_key: torch.Tensor, feat: torch.Tensor,
                holistic_feat: torch.Tensor, ratios: Sequence[float] | None) -> torch.Tensor:
        """Predictions ``(N, L, C-1)`` for the RNN outputs ``y`` ``(N, L, hidden)``;
        ``attn_key`` is ``conv3x3_1(feat)`` as ``(N, 1, d_k, h, w)``."""
        attn_query = self.conv1x1_1(y)
        bsz, seq_len, attn_size = attn_query.size()
        attn_query = attn_query.view(bsz, seq_len, attn_size, 1, 1)
        attn_weight = torch.tanh(torch.add(attn_key, attn_query, alpha=1))
        attn_weight = attn_weight.permute(0, 1, 3, 4, 2).contiguous()
        attn_weight = self.conv1x1_2(attn_weight)  # N, L, h, w, 1
        bsz, steps, h, w, c = attn_weight.size()
        attn_weight = mask_columns(attn_weight, ratios)
        attn_weight = F.softmax(attn_weight.view(bsz, steps, -1), dim=-1)
        attn_weight = attn_weight.view(bsz, steps, h, w, c).permute(0, 1, 4, 2, 3).contiguous()
        attn_feat = torch.sum(torch.mul(feat.unsqueeze(1), attn_weight), (3, 4), keepdim=False)
        if self.pred_concat:
            holistic_feat = holistic_feat.expand(bsz, seq_len, holistic_feat.size(-1))
            y = self.prediction(torch.cat((y, attn_feat, holistic_feat), 2))
        else:
            y = self.prediction(attn_feat)
        if self.train_mode:
            y = self.pred_dropout(y)
        return y

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor,
                      targets_dict: Mapping[str, Any], img_metas: Sequence[dict] | None
                      ) -> torch.Tensor:
        ratios = valid_ratios(img_metas, self.mask)
        targets = targets_dict["padded_targets"].to(feat.device)
        tgt_embedding = self.embedding(targets)
        out_enc = out_enc.unsqueeze(1)
        in_dec = torch.cat((out_enc, tgt_embedding), dim=1)
        out_dec = self._2d_attention(in_dec, feat, out_enc, ratios)
        return out_dec[:, 1:, :]

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        """Greedy decoding. MMOCR re-runs the RNN and the attention over the whole sequence at
        every step and keeps one position; with a one-directional RNN in eval mode the kept
        position depends only on the steps before it, so it is computed alone, carrying the
        RNN's state (the same numbers to float rounding, ~T times less work). A
        bidirectional RNN, or dropout in training mode, takes MMOCR's way."""
        if self.training or self.rnn_decoder.bidirectional:
            return self._forward_test_full(feat, out_enc, img_metas)
        ratios = valid_ratios(img_metas, self.mask)
        bsz = feat.size(0)
        attn_key = self.conv3x3_1(feat).unsqueeze(1)
        out_enc = out_enc.unsqueeze(1)
        _, state = self.rnn_decoder(out_enc)  # position 0: the holistic feature
        token = self.embedding(torch.full((bsz, 1), self.start_idx, device=feat.device,
                                          dtype=torch.long))
        outputs = []
        for _ in range(self.max_seq_len):
            y, state = self.rnn_decoder(token, state)
            char_output = F.softmax(self._attend(y, attn_key, feat, out_enc, ratios)[:, 0], -1)
            outputs.append(char_output)
            token = self.embedding(torch.max(char_output, dim=1)[1]).unsqueeze(1)
        return torch.stack(outputs, 1)

    def _forward_test_full(self, feat: torch.Tensor, out_enc: torch.Tensor,
                           img_metas: Sequence[dict] | None) -> torch.Tensor:
        """MMOCR's greedy decoding, literally."""
        ratios = valid_ratios(img_metas, self.mask)
        seq_len = self.max_seq_len
        bsz = feat.size(0)
        start_token = torch.full((bsz,), self.start_idx, device=feat.device, dtype=torch.long)
        start_token = self.embedding(start_token).unsqueeze(1).expand(-1, seq_len, -1)
        out_enc = out_enc.unsqueeze(1)
        decoder_input = torch.cat((out_enc, start_token), dim=1)
        outputs = []
        for i in range(1, seq_len + 1):
            decoder_output = self._2d_attention(decoder_input, feat, out_enc, ratios)
            char_output = F.softmax(decoder_output[:, i, :], -1)
            outputs.append(char_output)
            _, max_idx = torch.max(char_output, dim=1, keepdim=False)
            if i < seq_len:
                decoder_input[:, i + 1, :] = self.embedding(max_idx)
        return torch.stack(outputs, 1)


class SequentialSARDecoder(BaseDecoder):
    """SAR's sequential decoder (arguments as :class:`ParallelSARDecoder`; no ``dec_do_rnn``)."""

    def __init__(self, num_classes: int = 37, enc_bi_rnn: bool = False, dec_bi_rnn: bool = False,
                 dec_gru: bool = False, d_k: int = 64, d_model: int = 512, d_enc: int = 512,
                 pred_dropout: float = 0.0, mask: bool = True, max_seq_len: int = 40,
                 start_idx: int = 0, padding_idx: int = 92, pred_concat: bool = False,
                 init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("enc_bi_rnn", enc_bi_rnn), ("dec_bi_rnn", dec_bi_rnn),
                            ("dec_gru", dec_gru), ("mask", mask), ("pred_concat", pred_concat)):
            check_bool(value, f"model.decoder.{name}")
        check_dropout(pred_dropout, "model.decoder.pred_dropout")
        self.num_classes = num_classes
        self.enc_bi_rnn = enc_bi_rnn
        self.d_k = d_k
        self.start_idx = start_idx
        self.dec_gru = dec_gru
        self.max_seq_len = max_seq_len
        self.mask = mask
        self.pred_concat = pred_concat

        encoder_rnn_out_size = d_enc * (int(enc_bi_rnn) + 1)
        decoder_rnn_out_size = encoder_rnn_out_size * (int(dec_bi_rnn) + 1)
        self.conv1x1_1 = nn.Conv2d(decoder_rnn_out_size, d_k, kernel_size=1, stride=1)
        self.conv3x3_1 = nn.Conv2d(d_model, d_k, kernel_size=3, stride=1, padding=1)
        self.conv1x1_2 = nn.Conv2d(d_k, 1, kernel_size=1, stride=1)
        cell = nn.GRUCell if dec_gru else nn.LSTMCell
        self.rnn_decoder_layer1 = cell(encoder_rnn_out_size, encoder_rnn_out_size)
        self.rnn_decoder_layer2 = cell(encoder_rnn_out_size, encoder_rnn_out_size)
        self.embedding = nn.Embedding(num_classes, encoder_rnn_out_size, padding_idx=padding_idx)
        self.pred_dropout = nn.Dropout(pred_dropout)
        fc_in = (decoder_rnn_out_size + d_model + d_enc) if pred_concat else d_model
        self.prediction = nn.Linear(fc_in, num_classes - 1)

    def _2d_attention(self, y_prev: torch.Tensor, feat: torch.Tensor,
                      holistic_feat: torch.Tensor, hx1: torch.Tensor, cx1: torch.Tensor,
                      hx2: torch.Tensor, cx2: torch.Tensor,
                      ratios: Sequence[float] | None = None,
                      attn_key: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
        _, _, h_feat, w_feat = feat.size()
        if self.dec_gru:
            hx1 = cx1 = self.rnn_decoder_layer1(y_prev, hx1)
            hx2 = cx2 = self.rnn_decoder_layer2(hx1, hx2)
        else:
            hx1, cx1 = self.rnn_decoder_layer1(y_prev, (hx1, cx1))
            hx2, cx2 = self.rnn_decoder_layer2(hx1, (hx2, cx2))
        tile_hx2 = hx2.view(hx2.size(0), hx2.size(1), 1, 1)
        attn_query = self.conv1x1_1(tile_hx2).expand(-1, -1, h_feat, w_feat)
        if attn_key is None:
            attn_key = self.conv3x3_1(feat)
        attn_weight = torch.tanh(torch.add(attn_key, attn_query, alpha=1))
        attn_weight = self.conv1x1_2(attn_weight)  # N, 1, h, w
        bsz, c, h, w = attn_weight.size()
        attn_weight = mask_columns(attn_weight, ratios)
        attn_weight = F.softmax(attn_weight.view(bsz, -1), dim=-1).view(bsz, c, h, w)
        attn_feat = torch.sum(torch.mul(feat, attn_weight), (2, 3), keepdim=False)
        if self.pred_concat:
            y = self.prediction(torch.cat((hx2, attn_feat, holistic_feat), 1))
        else:
            y = self.prediction(attn_feat)
        # MMOCR's quirk, kept for its weights: the cells' memory becomes their hidden state
        return y, hx1, hx1, hx2, hx2

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor,
                      targets_dict: Mapping[str, Any] | None,
                      img_metas: Sequence[dict] | None = None) -> torch.Tensor:
        ratios = valid_ratios(img_metas, self.mask)
        if self.train_mode:
            tgt_embedding = self.embedding(targets_dict["padded_targets"].to(feat.device))
        start_token = torch.full((feat.size(0),), self.start_idx, device=feat.device,
                                 dtype=torch.long)
        start_token = self.embedding(start_token)
        if self.dec_gru:
            hx1 = cx1 = self.rnn_decoder_layer1(out_enc)
            hx2 = cx2 = self.rnn_decoder_layer2(hx1)
        else:
            hx1, cx1 = self.rnn_decoder_layer1(out_enc)
            hx2, cx2 = self.rnn_decoder_layer2(hx1)
        y_prev = start_token
        # MMOCR applies conv3x3_1 to the same map at every step; once is enough (the same
        # numbers; its gradient is accumulated once instead of max_seq_len times)
        attn_key = self.conv3x3_1(feat)
        outputs = []
        for i in range(self.max_seq_len):
            if self.train_mode:
                y_prev = tgt_embedding[:, i, :]
            y, hx1, cx1, hx2, cx2 = self._2d_attention(y_prev, feat, out_enc, hx1, cx1, hx2,
                                                       cx2, ratios, attn_key)
            if self.train_mode:
                y = self.pred_dropout(y)
            else:
                y = F.softmax(y, -1)
                _, max_idx = torch.max(y, dim=1, keepdim=False)
                y_prev = self.embedding(max_idx)
            outputs.append(y)
        return torch.stack(outputs, 1)

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        return self.forward_train(feat, out_enc, None, img_metas)

"""``SARNet`` and ``SAREncoder`` (MMOCR 0.6.3's ``recognizer/sar.py``, ``encoders/sar_encoder.py``).

The encoder max-pools the backbone map over its height, runs a 2-layer LSTM (or GRU) along the
width and returns the hidden state at the last *valid* column (``ceil(W * valid_ratio)``),
through a linear layer: the holistic feature ``(N, D_m)`` the decoders start from.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.textrecog.base import BaseEncoder, check_bool, check_dropout, valid_ratios
from ocr_ds.models.textrecog.recognizer import EncodeDecodeRecognizer


class SARNet(EncodeDecodeRecognizer):
    """SAR: an :class:`EncodeDecodeRecognizer` with MMOCR's name."""


class SAREncoder(BaseEncoder):
    """SAR's holistic encoder.

    Args:
        enc_bi_rnn: Bidirectional encoder RNN. Defaults to False.
        enc_do_rnn: Dropout between the RNN layers. Defaults to 0.0.
        enc_gru: GRU instead of LSTM. Defaults to False.
        d_model: Channels of the backbone map :math:`D_i`. Defaults to 512.
        d_enc: Hidden size of the encoder RNN :math:`D_m`. Defaults to 512.
        mask: Read the hidden state at the last valid column (else the last one).
            Defaults to True.
        init_cfg: Defaults to Xavier for Conv2d and Uniform for BatchNorm2d (MMOCR's; the
            encoder has neither, so its layers keep torch's initialisation).
    """

    def __init__(self, enc_bi_rnn: bool = False, enc_do_rnn: float = 0.0, enc_gru: bool = False,
                 d_model: int = 512, d_enc: int = 512, mask: bool = True,
                 init_cfg: Any = "default", **kwargs: Any):
        if init_cfg == "default":
            init_cfg = [dict(type="Xavier", layer="Conv2d"),
                        dict(type="Uniform", layer="BatchNorm2d")]
        super().__init__(init_cfg=init_cfg)
        check_bool(enc_bi_rnn, "model.encoder.enc_bi_rnn")
        check_dropout(enc_do_rnn, "model.encoder.enc_do_rnn")
        check_bool(enc_gru, "model.encoder.enc_gru")
        check_bool(mask, "model.encoder.mask")
        self.enc_bi_rnn = enc_bi_rnn
        self.enc_do_rnn = enc_do_rnn
        self.mask = mask
        rnn = nn.GRU if enc_gru else nn.LSTM
        self.rnn_encoder = rnn(input_size=d_model, hidden_size=d_enc, num_layers=2,
                               batch_first=True, dropout=enc_do_rnn, bidirectional=enc_bi_rnn)
        out_size = d_enc * (int(enc_bi_rnn) + 1)
        self.linear = nn.Linear(out_size, out_size)

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None
                ) -> torch.Tensor:
        ratios = valid_ratios(img_metas, self.mask)
        feat_v = F.max_pool2d(feat, kernel_size=(feat.size(2), 1), stride=1, padding=0)
        feat_v = feat_v.squeeze(2).permute(0, 2, 1).contiguous()  # N, W, C
        holistic_feat = self.rnn_encoder(feat_v)[0]  # N, W, C
        if ratios is not None:
            steps = holistic_feat.size(1)
            valid_hf = torch.stack([
                holistic_feat[i, min(steps, math.ceil(steps * r)) - 1, :]
                for i, r in enumerate(ratios)], dim=0)
        else:
            valid_hf = holistic_feat[:, -1, :]
        return self.linear(valid_hf)

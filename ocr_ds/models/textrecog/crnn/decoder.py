"""``CRNNDecoder``: per-column class logits from a ``C x 1 x T`` feature map (MMOCR 0.6.3).

With ``rnn_flag=True`` two bidirectional LSTMs read the columns as a sequence (CRNN); otherwise a
1x1 convolution classifies each column on its own. Module names (``decoder.0.rnn``,
``decoder.0.embedding``, ...) and initialisation are MMOCR's: ``init_cfg`` Xavier-normal on
Conv2d (the conv decoder), torch's defaults for the LSTMs and their projections. The call
signature is that of MMOCR's decoders, ``forward(feat, out_enc, targets_dict, img_metas,
train_mode)``, so an encode-decode recogniser drives it as it drives the others.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential


class BidirectionalLSTM(nn.Module):
    """A bidirectional LSTM over ``(T, N, C)`` followed by a linear projection to ``n_out``."""

    def __init__(self, n_in: int, n_hidden: int, n_out: int):
        super().__init__()
        self.rnn = nn.LSTM(n_in, n_hidden, bidirectional=True)
        self.embedding = nn.Linear(n_hidden * 2, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        recurrent, _ = self.rnn(x)
        t, b, h = recurrent.size()
        return self.embedding(recurrent.reshape(t * b, h)).view(t, b, -1)


class CRNNDecoder(BaseModule):
    """Decoder of CRNN.

    Args:
        in_channels: Channels of the backbone feature map.
        num_classes: Output classes (the recogniser fills it from its label convertor).
        rnn_flag: Two BiLSTMs (True) or a 1x1 convolution (False). Defaults to False.
        hidden_channels: LSTM hidden size (and the width between the two LSTMs). Defaults to
            256 (MMOCR's; an ocr_ds addition).
        init_cfg: Defaults to MMOCR's ``dict(type='Xavier', layer='Conv2d')``.
        start_idx, padding_idx, max_seq_len: What a recogniser gives every decoder; unused.
    """

    def __init__(self, in_channels: int | None = None, num_classes: int | None = None,
                 rnn_flag: bool = False, hidden_channels: int = 256,
                 init_cfg: Any = dict(type="Xavier", layer="Conv2d"), **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise UserError(f"model.decoder.in_channels: expected a positive int "
                            f"(got {in_channels!r})")
        if num_classes is None or num_classes < 2:
            raise UserError(f"model.decoder.num_classes: expected >= 2 (got {num_classes!r})")
        self.num_classes = num_classes
        self.rnn_flag = rnn_flag
        if rnn_flag:
            self.decoder = Sequential(
                BidirectionalLSTM(in_channels, hidden_channels, hidden_channels),
                BidirectionalLSTM(hidden_channels, hidden_channels, num_classes))
        else:
            self.decoder = nn.Conv2d(in_channels, num_classes, kernel_size=1, stride=1)

    def forward(self, feat: torch.Tensor, out_enc: torch.Tensor | None = None,
                targets_dict: dict | None = None, img_metas: list | None = None,
                train_mode: bool = True) -> torch.Tensor:
        """``(N, C, 1, T)`` features -> ``(N, T, num_classes)`` logits (the same in training
        and testing)."""
        self.train_mode = train_mode
        if feat.size(2) != 1:
            raise UserError(f"CRNNDecoder: the feature map must be 1 high (got {feat.size(2)}); "
                            "VeryDeepVgg needs 32-pixel-high inputs (ResizeOCR height=32)")
        if self.rnn_flag:
            x = feat.squeeze(2).permute(2, 0, 1)  # T, N, C
            return self.decoder(x).permute(1, 0, 2).contiguous()
        x = self.decoder(feat).permute(0, 3, 1, 2).contiguous()  # N, T, C, 1
        n, w, c, h = x.size()
        return x.view(n, w, c * h)

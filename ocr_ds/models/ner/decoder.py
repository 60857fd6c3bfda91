"""``FCDecoder``: MMOCR 0.6.3's token classifier over BERT's sequence output (dropout, linear)."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.ner.encoder import _NO_MATCH_INIT


class FCDecoder(BaseModule):
    """``classifier(dropout(outputs[0]))``: logits ``(N, L, num_labels)``.

    Args:
        num_labels: Filled in by ``NerClassifier`` from its convertor.
        hidden_dropout_prob: Defaults to 0.1.
        hidden_size: BERT's. Defaults to 768.
        init_cfg: MMOCR's default matches no layer: the classifier keeps torch's init.

    Returns ``(logits, preds)``; ``preds`` (the arg-max label of every position, lists of
    ints, as MMOCR's) only in eval mode: training never reads them, and computing them would
    copy the logits to the host at every step.
    """

    def __init__(self, num_labels: int | None = None, hidden_dropout_prob: float = 0.1,
                 hidden_size: int = 768, init_cfg: Any = _NO_MATCH_INIT):
        super().__init__(init_cfg=init_cfg)
        self.num_labels = num_labels
        self.dropout = nn.Dropout(hidden_dropout_prob)
        self.classifier = nn.Linear(hidden_size, self.num_labels)

    def forward(self, outputs: tuple) -> tuple[torch.Tensor, list[list[int]] | None]:
        logits = self.classifier(self.dropout(outputs[0]))
        if self.training and torch.is_grad_enabled():
            return logits, None
        # MMOCR: argmax of the float32 softmax (ties broken by the first index, as numpy's)
        preds = F.softmax(logits.float(), dim=2).argmax(dim=2).cpu().tolist()
        return logits, preds

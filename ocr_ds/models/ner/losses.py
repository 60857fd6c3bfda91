"""NER losses of MMOCR 0.6.3: cross entropy or focal loss over the attended positions.

Positions whose ``attention_masks`` is 0 (padding) are left out; label 0 (``'X'``, the
padding label) is ``ignore_index``. Returned as ``{'loss_cls': tensor}``. Computed in float32
(a half-precision model's logits are cast first).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F


class FocalLoss(nn.Module):
    """MMOCR's multi-class focal loss: ``nll((1 - p)^gamma * log p)``."""

    def __init__(self, gamma: float = 2, weight: Any = None, ignore_index: int = -100):
        super().__init__()
        self.gamma = gamma
        self.weight = weight
        self.ignore_index = ignore_index

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logit = F.log_softmax(input, dim=1)
        pt = torch.exp(logit)
        logit = (1 - pt) ** self.gamma * logit
        return F.nll_loss(logit, target, self.weight, ignore_index=self.ignore_index)


class _MaskedLoss(nn.Module):
    def __init__(self, num_labels: int | None = None, ignore_index: int = 0):
        super().__init__()
        self.num_labels = num_labels

    def forward(self, logits: torch.Tensor, img_metas: Mapping[str, torch.Tensor]
                ) -> dict[str, torch.Tensor]:
        labels = img_metas["labels"].to(logits.device)
        attention_masks = img_metas["attention_masks"]
        logits = logits.float()
        if attention_masks is not None:
            active = attention_masks.to(logits.device).view(-1) == 1
            loss = self.criterion(logits.view(-1, self.num_labels)[active],
                                  labels.view(-1)[active])
        else:
            loss = self.criterion(logits.view(-1, self.num_labels), labels.view(-1))
        return {"loss_cls": loss}


class MaskedCrossEntropyLoss(_MaskedLoss):
    """Cross entropy over the attended positions (``ignore_index`` 0)."""

    def __init__(self, num_labels: int | None = None, ignore_index: int = 0):
        super().__init__(num_labels, ignore_index)
        self.criterion = nn.CrossEntropyLoss(ignore_index=ignore_index)


class MaskedFocalLoss(_MaskedLoss):
    """Focal loss (gamma 2) over the attended positions (``ignore_index`` 0)."""

    def __init__(self, num_labels: int | None = None, ignore_index: int = 0):
        super().__init__(num_labels, ignore_index)
        self.criterion = FocalLoss(ignore_index=ignore_index)

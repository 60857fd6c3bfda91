"""``CTCLoss``: MMOCR 0.6.3's CTC loss of recogniser logits, the same operations in the same
order (so the same numbers): log-softmax over classes, flattened or blank-padded targets,
target lengths clamped to ``[1, T]`` (MMOCR clamps them in both modes), input lengths ``T`` or,
for padded targets, ``ceil(valid_ratio * T)``.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError, bad_value


class CTCLoss(nn.Module):
    """CTC loss on decoder logits ``(N, T, C)`` (computed in float32, whatever the input dtype).

    Args:
        flatten: Use concatenated targets (all input lengths = T); otherwise padded targets and
            input lengths ``ceil(valid_ratio * T)``. Defaults to True.
        blank: Blank class. Defaults to 0.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        zero_infinity: Zero infinite losses (targets longer than the input). Defaults to False.
        ignore_index: What a recogniser gives every loss; unused by CTC.
    """

    def __init__(self, flatten: bool = True, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False, **kwargs: Any):
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise bad_value("model.loss.reduction", reduction, "'none', 'mean' or 'sum'")
        for name, value, kind in (("flatten", flatten, bool), ("blank", blank, int),
                                  ("zero_infinity", zero_infinity, bool)):
            if not isinstance(value, kind):
                raise UserError(f"model.loss.{name}: expected a {kind.__name__} (got {value!r})")
        self.flatten = flatten
        self.blank = blank
        self.ctc_loss = nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)

    def forward(self, outputs: torch.Tensor, targets_dict: dict[str, Any],
                img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        valid_ratios = None
        if img_metas is not None:
            valid_ratios = [m.get("valid_ratio", 1.0) for m in img_metas]
        log_probs = torch.log_softmax(outputs.float(), dim=2)
        bsz, seq_len = log_probs.size(0), log_probs.size(1)
        log_probs = log_probs.permute(1, 0, 2).contiguous()  # T, N, C
        device = log_probs.device
        if self.flatten:
            targets = targets_dict["flatten_targets"]
        else:
            targets = torch.full((bsz, seq_len), self.blank, dtype=torch.long)
            for idx, tensor in enumerate(targets_dict["targets"]):
                valid_len = min(tensor.size(0), seq_len)
                targets[idx, :valid_len] = tensor[:valid_len]
        target_lengths = torch.clamp(targets_dict["target_lengths"], min=1, max=seq_len).long()
        input_lengths = torch.full((bsz,), seq_len, dtype=torch.long)
        if not self.flatten and valid_ratios is not None:
            input_lengths = torch.tensor([math.ceil(r * seq_len) for r in valid_ratios],
                                         dtype=torch.long)
        loss = self.ctc_loss(log_probs, targets.to(device), input_lengths.to(device),
                             target_lengths.to(device))
        return {"loss_ctc": loss}

"""Cross-entropy losses of the encoder-decoder recognisers (MMOCR 0.6.3's ``ce_loss.py``).

* ``CELoss``: cross entropy of ``(N, T, C)`` logits against ``padded_targets`` ``(N, T)``,
  padding ignored (the recogniser sets ``ignore_index`` to the convertor's ``padding_idx``).
* ``SARLoss`` (SAR, RobustScanner): drops the start token of the targets and the last step of
  the outputs; ``reduction='mean'``.
* ``TFLoss`` (NRTR, SATRN, MASTER): the same shift; ``flatten`` (default) computes the loss on
  ``(N*T, C)``; ``reduction='none'`` by default, as MMOCR (the engine then averages the
  per-token losses, as mmcv's ``parse_losses`` does with ``.mean()``).

MMOCR 0.6.3's TFLoss has no label smoothing; none is added here.

The loss is computed in float32 whatever the logits' dtype (bf16/fp16 training), as mmcv's
fp16 hooks keep losses in fp32.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import bad_value


class CELoss(nn.Module):
    """Cross entropy for encoder-decoder recognisers.

    Args:
        ignore_index: Target value ignored by the loss. Defaults to -1.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'none'``.
        ignore_first_char: Drop the first target token and the last output step.
            Defaults to False.
    """

    def __init__(self, ignore_index: int = -1, reduction: str = "none",
                 ignore_first_char: bool = False):
        super().__init__()
        if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
            raise bad_value("model.loss.ignore_index", ignore_index, "an integer")
        if reduction not in ("none", "mean", "sum"):
            raise bad_value("model.loss.reduction", reduction, "'none', 'mean' or 'sum'")
        if not isinstance(ignore_first_char, bool):
            raise bad_value("model.loss.ignore_first_char", ignore_first_char, "True or False")
        self.loss_ce = nn.CrossEntropyLoss(ignore_index=ignore_index, reduction=reduction)
        self.ignore_first_char = ignore_first_char

    def format(self, outputs: torch.Tensor, targets_dict: Mapping[str, Any]
               ) -> tuple[torch.Tensor, torch.Tensor]:
        targets = targets_dict["padded_targets"]
        if self.ignore_first_char:
            targets = targets[:, 1:].contiguous()
            outputs = outputs[:, :-1, :]
        return outputs.permute(0, 2, 1).contiguous(), targets

    def forward(self, outputs: torch.Tensor, targets_dict: Mapping[str, Any],
                img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        outputs, targets = self.format(outputs, targets_dict)
        return {"loss_ce": self.loss_ce(outputs.float(), targets.to(outputs.device))}


class SARLoss(CELoss):
    """SAR's loss: targets ``[start, c1, ..., end, pad...]`` vs outputs ``[c1, ..., end, ...]``.

    Args:
        ignore_index: Target value ignored by the loss. Defaults to -1.
        reduction: Defaults to ``'mean'``.
    """

    def __init__(self, ignore_index: int = -1, reduction: str = "mean", **kwargs: Any):
        super().__init__(ignore_index, reduction)

    def format(self, outputs: torch.Tensor, targets_dict: Mapping[str, Any]
               ) -> tuple[torch.Tensor, torch.Tensor]:
        targets = targets_dict["padded_targets"][:, 1:].contiguous()
        return outputs[:, :-1, :].permute(0, 2, 1).contiguous(), targets


class TFLoss(CELoss):
    """The transformers' loss (NRTR, SATRN, MASTER).

    Args:
        ignore_index: Target value ignored by the loss. Defaults to -1.
        reduction: Defaults to ``'none'``.
        flatten: Compute on ``(N*T, C)`` logits. Defaults to True.
    """

    def __init__(self, ignore_index: int = -1, reduction: str = "none", flatten: bool = True,
                 **kwargs: Any):
        super().__init__(ignore_index, reduction)
        if not isinstance(flatten, bool):
            raise bad_value("model.loss.flatten", flatten, "True or False")
        self.flatten = flatten

    def format(self, outputs: torch.Tensor, targets_dict: Mapping[str, Any]
               ) -> tuple[torch.Tensor, torch.Tensor]:
        outputs = outputs[:, :-1, :].contiguous()
        targets = targets_dict["padded_targets"][:, 1:].contiguous()
        if self.flatten:
            return outputs.view(-1, outputs.size(-1)), targets.view(-1)
        return outputs.permute(0, 2, 1).contiguous(), targets

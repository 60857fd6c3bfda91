"""mmdet 2.28.2's ``CrossEntropyLoss`` (softmax, sigmoid and per-class mask variants),
``L1Loss``/``SmoothL1Loss``, with mmdet's weighting and ``avg_factor``."""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ocr_ds.errors import UserError


def weight_reduce_loss(loss: torch.Tensor, weight: torch.Tensor | None = None,
                       reduction: str = "mean", avg_factor: float | None = None) -> torch.Tensor:
    if weight is not None:
        loss = loss * weight
    if avg_factor is None:
        return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]
    if reduction == "mean":
        return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
    if reduction != "none":
        raise ValueError('avg_factor can not be used with reduction="sum"')
    return loss


def _expand_onehot(labels: torch.Tensor, weights: torch.Tensor | None, channels: int,
                   ignore_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    bin_labels = labels.new_full((labels.size(0), channels), 0)
    valid = (labels >= 0) & (labels != ignore_index)
    inds = torch.nonzero(valid & (labels < channels), as_tuple=False)
    if inds.numel() > 0:
        bin_labels[inds, labels[inds]] = 1
    valid = valid.view(-1, 1).expand(labels.size(0), channels).float()
    if weights is None:
        return bin_labels, valid
    return bin_labels, weights.view(-1, 1).repeat(1, channels) * valid


class CrossEntropyLoss(nn.Module):
    """``use_sigmoid``: binary CE on one-hot labels (RPN); ``use_mask``: binary CE of each
    RoI's own-class mask logits against its target (mask head); else softmax CE."""

    def __init__(self, use_sigmoid: bool = False, use_mask: bool = False,
                 reduction: str = "mean", class_weight: Any = None, ignore_index: int | None = None,
                 loss_weight: float = 1.0, avg_non_ignore: bool = False):
        super().__init__()
        if class_weight is not None or avg_non_ignore:
            raise UserError("CrossEntropyLoss: ocr_ds's Mask R-CNN takes no class_weight or "
                            "avg_non_ignore")
        self.use_sigmoid = use_sigmoid
        self.use_mask = use_mask
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor,
                weight: torch.Tensor | None = None, avg_factor: float | None = None,
                reduction_override: str | None = None) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        ignore = -100 if self.ignore_index is None else self.ignore_index
        if self.use_mask:
            # here `label` is the target masks and `weight` the RoIs' class labels
            inds = torch.arange(0, cls_score.size(0), dtype=torch.long, device=cls_score.device)
            pred = cls_score[inds, weight].squeeze(1)
            return self.loss_weight * F.binary_cross_entropy_with_logits(
                pred, label, reduction="mean")[None]
        if self.use_sigmoid:
            if cls_score.dim() != label.dim():
                label, weight = _expand_onehot(label, weight, cls_score.size(-1), ignore)
            else:
                valid = ((label >= 0) & (label != ignore)).float()
                weight = valid if weight is None else weight * valid
            loss = F.binary_cross_entropy_with_logits(cls_score, label.float(), reduction="none")
            return self.loss_weight * weight_reduce_loss(loss, weight.float(), reduction,
                                                         avg_factor)
        loss = F.cross_entropy(cls_score, label, reduction="none", ignore_index=ignore)
        if weight is not None:
            weight = weight.float()
        return self.loss_weight * weight_reduce_loss(loss, weight, reduction, avg_factor)


class L1Loss(nn.Module):
    """mmdet's ``L1Loss`` (``SmoothL1Loss`` with ``beta``)."""

    def __init__(self, reduction: str = "mean", loss_weight: float = 1.0, beta: float = 0.0):
        super().__init__()
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.beta = beta

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                weight: torch.Tensor | None = None, avg_factor: float | None = None,
                reduction_override: str | None = None) -> torch.Tensor:
        reduction = reduction_override or self.reduction
        if target.numel() == 0:
            return pred.sum() * 0
        diff = torch.abs(pred - target)
        if self.beta > 0:
            diff = torch.where(diff < self.beta, 0.5 * diff * diff / self.beta,
                               diff - 0.5 * self.beta)
        return self.loss_weight * weight_reduce_loss(diff, weight, reduction, avg_factor)


class SmoothL1Loss(L1Loss):
    """mmdet's ``SmoothL1Loss``: quadratic below ``beta``, linear above."""

    def __init__(self, beta: float = 1.0, reduction: str = "mean", loss_weight: float = 1.0):
        if beta <= 0:
            raise UserError(f"SmoothL1Loss.beta: expected a number > 0 (got {beta!r})")
        super().__init__(reduction=reduction, loss_weight=loss_weight, beta=beta)

"""``DBLoss``: ``alpha * loss_prob + loss_db + beta * loss_thr``, as MMOCR 0.6.3 computes it.

* ``loss_prob``: balanced BCE on the probability map (every positive plus the
  ``negative_ratio`` x as many hardest negatives), or dice when ``bbce_loss=False``;
* ``loss_db``: dice on the approximate binary map;
* ``loss_thr``: L1 on the threshold map inside its mask.

Positives are ``gt_shrink > 0``; ``gt_shrink_mask`` removes ignored (``###``) regions from the
first two. Targets arrive as dense ``(N, H, W)`` tensors at the padded input resolution
(MMOCR's ``BitmapMasks`` rescaled by ``downsample_ratio`` and zero-padded to the prediction:
:func:`~ocr_ds.models.textdet.losses.fit_target`). Computed in fp32 whatever the predictions'
dtype, and outside autocast (torch's BCE refuses to run under it).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.losses import fit_target


class DiceLoss(nn.Module):
    """MMOCR's ``DiceLoss``: ``1 - 2 sum(P T) / (sum P + sum T + eps)`` over the whole batch,
    on the pixels of ``mask`` when given."""

    def __init__(self, eps: float = 1e-6):
        super().__init__()
        if not isinstance(eps, float):
            raise UserError(f"model.bbox_head.loss.eps: expected a float (got {eps!r})")
        self.eps = eps

    def forward(self, pred: torch.Tensor, target: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        pred = pred.contiguous().view(pred.size(0), -1)
        target = target.contiguous().view(target.size(0), -1)
        if mask is not None:
            mask = mask.contiguous().view(mask.size(0), -1)
            pred = pred * mask
            target = target * mask
        return 1 - (2 * torch.sum(pred * target)) / (torch.sum(pred) + torch.sum(target) + self.eps)


class DBLoss(nn.Module):
    """Args (MMOCR's): alpha=1 (weight of loss_prob; MMOCR's configs use 5), beta=1 (weight of
    loss_thr; configs use 10), reduction='mean' (checked, unused, as MMOCR), negative_ratio=3.0,
    eps=1e-6, bbce_loss=False."""

    def __init__(self, alpha: float = 1, beta: float = 1, reduction: str = "mean",
                 negative_ratio: float = 3.0, eps: float = 1e-6, bbce_loss: bool = False):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise UserError(f"model.bbox_head.loss.reduction: expected 'mean' or 'sum' "
                            f"(got {reduction!r})")
        self.alpha = alpha
        self.beta = beta
        self.reduction = reduction
        self.negative_ratio = negative_ratio
        self.eps = eps
        self.bbce_loss = bbce_loss
        self.dice_loss = DiceLoss(eps=eps)

    def balance_bce_loss(self, pred: torch.Tensor, gt: torch.Tensor,
                         mask: torch.Tensor) -> torch.Tensor:
        positive = gt * mask
        negative = (1 - gt) * mask
        positive_count = int(positive.float().sum())
        negative_count = min(int(negative.float().sum()),
                             int(positive_count * self.negative_ratio))
        loss = F.binary_cross_entropy(pred, gt, reduction="none")
        positive_loss = loss * positive.float()
        negative_loss, _ = torch.topk((loss * negative.float()).view(-1), negative_count)
        return (positive_loss.sum() + negative_loss.sum()) / (
            positive_count + negative_count + self.eps)

    def l1_thr_loss(self, pred: torch.Tensor, gt: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        return torch.abs((pred - gt) * mask).sum() / (mask.sum() + self.eps)

    def forward(self, preds: torch.Tensor, downsample_ratio: float, gt_shrink: torch.Tensor,
                gt_shrink_mask: torch.Tensor, gt_thr: torch.Tensor,
                gt_thr_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``preds``: ``(N, 3, H, W)`` probability, threshold and binary maps."""
        with torch.autocast(device_type=preds.device.type, enabled=False):
            preds = preds.float()
            size = preds.shape[2:]
            shrink = (fit_target(gt_shrink, size, downsample_ratio) > 0).float()
            shrink_mask = fit_target(gt_shrink_mask, size, downsample_ratio)
            thr = fit_target(gt_thr, size, downsample_ratio)
            thr_mask = fit_target(gt_thr_mask, size, downsample_ratio)
            pred_prob, pred_thr, pred_db = preds[:, 0], preds[:, 1], preds[:, 2]
            if self.bbce_loss:
                loss_prob = self.balance_bce_loss(pred_prob, shrink, shrink_mask)
            else:
                loss_prob = self.dice_loss(pred_prob, shrink, shrink_mask)
            loss_db = self.dice_loss(pred_db, shrink, shrink_mask)
            loss_thr = self.l1_thr_loss(pred_thr, thr, thr_mask)
        return dict(loss_prob=self.alpha * loss_prob, loss_db=loss_db,
                    loss_thr=self.beta * loss_thr)

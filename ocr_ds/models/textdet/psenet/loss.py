"""``PSELoss``: PSENet's loss, computed as MMOCR 0.6.3 computes it (same operations in the same
order, so the same numbers to the last bits on the same maps).

``loss_text``: ``alpha`` x dice of the text map (the largest kernel) over every effective
positive and the ``ohem_ratio`` times as many highest-scoring negatives (OHEM);
``loss_kernel``: ``1 - alpha`` x the mean dice of the smaller kernels, over the pixels predicted
as text ('adaptive') or labelled text ('hard'). Both reduced over the batch by mean or sum.

MMOCR's PSELoss reuses PANLoss's dice and OHEM; they are the functions here.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.losses import fit_target


def dice_loss_with_logits(pred: torch.Tensor, target: torch.Tensor,
                          mask: torch.Tensor) -> torch.Tensor:
    """Per-sample ``1 - 2|P.T| / (|P|^2 + |T|^2)`` of ``sigmoid(pred)`` and the binarised
    target inside ``mask``, each sum smoothed by 1e-3 (PANLoss's)."""
    smooth = 0.001
    n = pred.shape[0]
    pred = torch.sigmoid(pred).reshape(n, -1)
    target = (target > 0.5).to(pred.dtype).reshape(n, -1)
    mask = mask.reshape(n, -1)
    pred = pred * mask
    target = target * mask
    a = torch.sum(pred * target, 1) + smooth
    b = torch.sum(pred * pred, 1) + smooth
    c = torch.sum(target * target, 1) + smooth
    return 1 - (2 * a) / (b + c)


def ohem_img(score: torch.Tensor, gt_text: torch.Tensor, gt_mask: torch.Tensor,
             ohem_ratio: float) -> torch.Tensor:
    """All effective positives plus the ``ohem_ratio`` x as many top-scoring negatives (bool);
    the whole effective mask when there is no positive or no negative."""
    pos = gt_text > 0.5
    pos_num = int(pos.sum()) - int((pos & (gt_mask <= 0.5)).sum())
    neg_num = int(min(pos_num * ohem_ratio, int((~pos).sum())))
    if pos_num == 0 or neg_num == 0:
        return gt_mask.bool()
    threshold = torch.sort(score[~pos], descending=True).values[neg_num - 1]
    return ((score >= threshold) | pos) & (gt_mask > 0.5)


class PSELoss(nn.Module):
    """PSENet loss.

    Args:
        alpha: Weight of the text loss; the kernel loss gets ``1 - alpha``. Defaults to 0.7.
        ohem_ratio: Negatives per positive for the text loss. Defaults to 3.
        reduction: 'mean' or 'sum' over the batch. Defaults to 'mean'.
        kernel_sample_type: 'adaptive' or 'hard'. Defaults to 'adaptive'.
    """

    def __init__(self, alpha: float = 0.7, ohem_ratio: float = 3, reduction: str = "mean",
                 kernel_sample_type: str = "adaptive"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise UserError(f"model.bbox_head.loss.reduction: expected 'mean' or 'sum' "
                            f"(got {reduction!r})")
        if kernel_sample_type not in ("adaptive", "hard"):
            raise UserError(f"model.bbox_head.loss.kernel_sample_type: expected 'adaptive' or "
                            f"'hard' (got {kernel_sample_type!r})")
        self.alpha = alpha
        self.ohem_ratio = ohem_ratio
        self.reduction = reduction
        self.kernel_sample_type = kernel_sample_type

    def forward(self, score_maps: torch.Tensor, downsample_ratio: float,
                gt_kernels: torch.Tensor, gt_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``score_maps``: ``(N, K, h, w)`` logits, text first; ``gt_kernels``: ``(N, K, H, W)``
        and ``gt_mask``: ``(N, H, W)`` or ``(N, 1, H, W)`` at the input resolution."""
        score_maps = score_maps.float()
        size = score_maps.shape[2:]
        kernels = fit_target(gt_kernels, size, downsample_ratio)
        mask = fit_target(gt_mask, size, downsample_ratio).reshape(kernels.shape[0], *size)
        if kernels.shape[1] != score_maps.shape[1]:
            raise ValueError(f"PSELoss: {score_maps.shape[1]} predicted maps but "
                             f"{kernels.shape[1]} target kernels")
        pred_texts = score_maps[:, 0]
        gt_texts = kernels[:, 0]
        with torch.no_grad():
            sampled = torch.stack([ohem_img(s, g, m, self.ohem_ratio) for s, g, m in
                                   zip(pred_texts.detach(), gt_texts, mask)])
        losses = [self.alpha * dice_loss_with_logits(pred_texts, gt_texts, sampled)]
        if self.kernel_sample_type == "hard":
            kernel_mask = (gt_texts > 0.5).float() * mask
        else:
            kernel_mask = (pred_texts.detach() > 0).float() * mask
        loss_list = [dice_loss_with_logits(score_maps[:, i], kernels[:, i], kernel_mask)
                     for i in range(1, score_maps.shape[1])]
        losses.append((1 - self.alpha) * sum(loss_list) / len(loss_list))
        reduce = torch.mean if self.reduction == "mean" else torch.sum
        return dict(loss_text=reduce(losses[0]), loss_kernel=reduce(losses[1]))

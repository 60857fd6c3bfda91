"""PSENet's loss and the target resizing detection losses share, as MMOCR 0.x computes them
(DBNet's loss: :mod:`ocr_ds.models.textdet.dbnet.loss`).

Targets arrive as dense tensors at the (padded) input resolution, ``(N, H, W)`` or
``(N, K, H, W)``; :func:`fit_target` brings them to the prediction's resolution
(``downsample_ratio``, nearest neighbour, then zero pad or crop, as MMOCR's
``BitmapMasks.rescale`` + pad). Everything is computed in fp32 whatever the compute dtype of
the predictions, so the losses behave the same under bf16/fp16 engines.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError


def fit_target(target: torch.Tensor, size: Sequence[int], ratio: float = 1.0) -> torch.Tensor:
    """Rescale a ``(N, [K,] H, W)`` target by ``ratio`` and pad/crop it to ``size`` (fp32)."""
    t = target.float()
    lead = t.shape[:-2]
    t = t.reshape(-1, 1, *t.shape[-2:])
    if ratio != 1.0:
        h, w = t.shape[-2:]
        t = F.interpolate(t, size=(int(h * ratio + 0.5), int(w * ratio + 0.5)), mode="nearest")
    h, w = t.shape[-2:]
    th, tw = int(size[0]), int(size[1])
    if (h, w) != (th, tw):
        t = F.pad(t[..., :th, :tw], (0, max(tw - w, 0), 0, max(th - h, 0)))
    return t.reshape(*lead, th, tw)


class PSELoss(nn.Module):
    """PSENet loss: ``alpha * text dice (OHEM) + (1 - alpha) * mean kernel dice``.

    The text map (the full-size kernel) is trained with dice over all positives and the
    ``ohem_ratio`` times as many highest-scoring negatives; each smaller kernel with dice over
    the pixels predicted as text (``kernel_sample_type='adaptive'``) or labelled text ('hard').

    Args:
        alpha: Weight of the text loss. Defaults to 0.7.
        ohem_ratio: Negatives per positive for the text loss. Defaults to 3.
        reduction: 'mean' or 'sum' over the batch. Defaults to 'mean'.
        kernel_sample_type: 'adaptive' or 'hard'. Defaults to 'adaptive'.
    """

    def __init__(self, alpha: float = 0.7, ohem_ratio: float = 3, reduction: str = "mean",
                 kernel_sample_type: str = "adaptive"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise UserError(f"loss.reduction: expected 'mean' or 'sum' (got {reduction!r})")
        if kernel_sample_type not in ("adaptive", "hard"):
            raise UserError(f"loss.kernel_sample_type: expected 'adaptive' or 'hard' "
                            f"(got {kernel_sample_type!r})")
        self.alpha = alpha
        self.ohem_ratio = ohem_ratio
        self.reduction = reduction
        self.kernel_sample_type = kernel_sample_type

    @staticmethod
    def dice_loss_with_logits(pred: torch.Tensor, target: torch.Tensor,
                              mask: torch.Tensor) -> torch.Tensor:
        """Per-sample ``1 - 2|P.T| / (|P|^2 + |T|^2)`` with sigmoid(pred), smoothed by 1e-3."""
        smooth = 0.001
        n = pred.shape[0]
        pred = torch.sigmoid(pred).reshape(n, -1) * mask.reshape(n, -1)
        target = (target > 0.5).float().reshape(n, -1) * mask.reshape(n, -1)
        a = (pred * target).sum(1) + smooth
        b = (pred * pred).sum(1) + smooth
        c = (target * target).sum(1) + smooth
        return 1 - 2 * a / (b + c)

    def ohem_img(self, score: torch.Tensor, gt_text: torch.Tensor,
                 gt_mask: torch.Tensor) -> torch.Tensor:
        """All effective positives plus the top-scoring ``ohem_ratio`` x as many negatives."""
        pos = gt_text > 0.5
        pos_num = int((pos & (gt_mask > 0.5)).sum())
        neg = ~pos
        neg_num = min(int(pos_num * self.ohem_ratio), int(neg.sum()))
        if pos_num == 0 or neg_num == 0:
            return (gt_mask > 0.5).float()
        threshold = torch.topk(score[neg], neg_num).values[-1]
        return (((score >= threshold) | pos) & (gt_mask > 0.5)).float()

    def forward(self, score_maps: torch.Tensor, downsample_ratio: float,
                gt_kernels: torch.Tensor, gt_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``score_maps``: ``(N, K, h, w)`` logits, text first; ``gt_kernels``: ``(N, K, H, W)``."""
        score_maps = score_maps.float()
        size = score_maps.shape[2:]
        kernels = fit_target(gt_kernels, size, downsample_ratio)
        mask = fit_target(gt_mask, size, downsample_ratio)
        if kernels.shape[1] != score_maps.shape[1]:
            raise ValueError(f"PSELoss: {score_maps.shape[1]} predicted maps but "
                             f"{kernels.shape[1]} target kernels")
        pred_texts = score_maps[:, 0]
        gt_texts = kernels[:, 0]
        with torch.no_grad():
            sampled = torch.stack([self.ohem_img(s, g, m) for s, g, m in
                                   zip(pred_texts.detach(), gt_texts, mask)])
        loss_text = self.dice_loss_with_logits(pred_texts, gt_texts, sampled)
        if self.kernel_sample_type == "hard":
            kernel_mask = (gt_texts > 0.5).float() * mask
        else:
            kernel_mask = (pred_texts.detach() > 0).float() * mask
        loss_kernel = sum(self.dice_loss_with_logits(score_maps[:, i], kernels[:, i], kernel_mask)
                          for i in range(1, score_maps.shape[1])) / (score_maps.shape[1] - 1)
        reduce = torch.mean if self.reduction == "mean" else torch.sum
        return dict(loss_text=self.alpha * reduce(loss_text),
                    loss_kernel=(1 - self.alpha) * reduce(loss_kernel))

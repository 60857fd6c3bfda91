"""DBNet's loss and the target fitting both DBNet's and PSENet's losses use, as MMOCR 0.x.

Targets arrive as dense tensors at the (padded) input resolution, ``(N, H, W)`` or
``(N, K, H, W)``; :func:`fit_target` brings them to the prediction's resolution
(``downsample_ratio``, nearest neighbour, then zero pad or crop, as MMOCR's
``BitmapMasks.rescale`` + pad). Everything is computed in fp32 whatever the compute dtype of
the predictions, so the losses behave the same under bf16/fp16 engines.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError


def nearest_index(src: int, dst: int, device: torch.device | None = None) -> torch.Tensor:
    """The source row (or column) of each of ``dst`` outputs of a nearest-neighbour resize from
    ``src``, as OpenCV's ``INTER_NEAREST`` picks it (``floor(i / (dst / src))`` in double
    precision): what MMOCR's ``BitmapMasks.rescale`` (``mmcv.imrescale``) does to targets."""
    inv = 1.0 / (dst / src)
    return torch.tensor([min(math.floor(i * inv), src - 1) for i in range(dst)],
                        dtype=torch.long, device=device)


def fit_target(target: torch.Tensor, size: Sequence[int], ratio: float = 1.0) -> torch.Tensor:
    """Rescale a ``(N, [K,] H, W)`` target by ``ratio`` and pad/crop it to ``size`` (fp32).

    The rescaled size is ``int(H * ratio + 0.5)`` x ``int(W * ratio + 0.5)`` and the pixels
    those of OpenCV's nearest-neighbour resize, as mmcv's ``imrescale`` computes them."""
    t = target.float()
    if ratio != 1.0:
        h, w = t.shape[-2:]
        nh, nw = int(h * ratio + 0.5), int(w * ratio + 0.5)
        t = t.index_select(-2, nearest_index(h, nh, t.device))
        t = t.index_select(-1, nearest_index(w, nw, t.device))
    h, w = t.shape[-2:]
    th, tw = int(size[0]), int(size[1])
    if (h, w) != (th, tw):
        t = F.pad(t[..., :th, :tw], (0, max(tw - w, 0), 0, max(th - h, 0)))
    return t


def dice_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None,
              eps: float = 1e-6) -> torch.Tensor:
    """``1 - 2|P.T| / (|P| + |T|)`` over the whole batch (MMOCR's ``DiceLoss``)."""
    pred = pred.reshape(pred.shape[0], -1)
    target = target.reshape(target.shape[0], -1)
    if mask is not None:
        mask = mask.reshape(mask.shape[0], -1)
        pred = pred * mask
        target = target * mask
    inter = (pred * target).sum()
    return 1 - 2 * inter / (pred.sum() + target.sum() + eps)


class DBLoss(nn.Module):
    """DBNet loss: ``alpha * prob + db + beta * thr``.

    ``loss_prob``: balanced BCE on the probability map, every positive and at most
    ``negative_ratio`` times as many of the hardest negatives (or dice if ``bbce_loss=False``);
    ``loss_db``: dice on the approximate binary map; ``loss_thr``: L1 on the threshold map inside
    its mask. Shrink and ``###`` regions are masked by ``gt_shrink_mask``.

    Args:
        alpha: Weight of ``loss_prob``. Defaults to 1 (MMOCR's configs use 5).
        beta: Weight of ``loss_thr``. Defaults to 1 (MMOCR's configs use 10).
        negative_ratio: OHEM negatives per positive. Defaults to 3.
        eps: Numerical guard. Defaults to 1e-6.
        bbce_loss: Balanced BCE (True) or dice (False) for ``loss_prob``. Defaults to False.
    """

    def __init__(self, alpha: float = 1, beta: float = 1, reduction: str = "mean",
                 negative_ratio: float = 3.0, eps: float = 1e-6, bbce_loss: bool = False):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise UserError(f"loss.reduction: expected 'mean' or 'sum' (got {reduction!r})")
        self.alpha = alpha
        self.beta = beta
        self.negative_ratio = negative_ratio
        self.eps = eps
        self.bbce_loss = bbce_loss

    def balance_bce_loss(self, pred: torch.Tensor, gt: torch.Tensor,
                         mask: torch.Tensor) -> torch.Tensor:
        positive = gt * mask
        negative = (1 - gt) * mask
        pos_count = int(positive.sum())
        neg_count = min(int(negative.sum()), int(pos_count * self.negative_ratio))
        p = pred.clamp(0, 1)
        # log clamped at -100 as torch's binary_cross_entropy; written out because that
        # function refuses to run under autocast
        loss = -(gt * torch.log(p).clamp(min=-100) + (1 - gt) * torch.log(1 - p).clamp(min=-100))
        pos_loss = (loss * positive).sum()
        neg_loss = torch.topk((loss * negative).reshape(-1), neg_count).values.sum()
        return (pos_loss + neg_loss) / (pos_count + neg_count + self.eps)

    def l1_thr_loss(self, pred: torch.Tensor, gt: torch.Tensor,
                    mask: torch.Tensor) -> torch.Tensor:
        return torch.abs((pred - gt) * mask).sum() / (mask.sum() + self.eps)

    def forward(self, preds: torch.Tensor, downsample_ratio: float, gt_shrink: torch.Tensor,
                gt_shrink_mask: torch.Tensor, gt_thr: torch.Tensor,
                gt_thr_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``preds``: ``(N, 3, H, W)`` probability, threshold and binary maps."""
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
            loss_prob = dice_loss(pred_prob, shrink, shrink_mask, self.eps)
        loss_db = dice_loss(pred_db, shrink, shrink_mask, self.eps)
        loss_thr = self.l1_thr_loss(pred_thr, thr, thr_mask)
        return dict(loss_prob=self.alpha * loss_prob, loss_db=loss_db,
                    loss_thr=self.beta * loss_thr)

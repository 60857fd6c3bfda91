"""``SegLoss``: SegOCR's weighted per-pixel cross entropy (MMOCR 0.6.3's ``losses/seg_loss.py``).

The target is the second map of ``gt_kernels`` (``OCRSegTargets``: the class map of the
characters' shrunk boxes, 255 right of the resized image), rescaled by
``seg_downsample_ratio`` (nearest, as mmdet's ``BitmapMasks.rescale``). With
``seg_with_loss_weight`` every character class weighs ``N_bg / (N - N_bg)`` (``N``: the pixels
not ignored, ``N_bg``: the background ones) and the background 1, computed per batch as MMOCR.

The cross entropy runs in fp32 whatever the compute dtype (bf16/fp16 logits are cast; fp32 is
unchanged), so the weighted mean keeps its precision.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.losses import fit_target


class SegLoss(nn.Module):
    """Args:
        seg_downsample_ratio: Scale of the logits against the target maps (0, 1]. Defaults
            to 0.5.
        seg_with_loss_weight: Weigh character classes against the background. Defaults to
            True.
        ignore_index: Target value that contributes nothing. Defaults to 255.
    """

    def __init__(self, seg_downsample_ratio: float = 0.5, seg_with_loss_weight: bool = True,
                 ignore_index: int = 255, **kwargs: Any):
        super().__init__()
        if (not isinstance(seg_downsample_ratio, (int, float))
                or isinstance(seg_downsample_ratio, bool) or not 0 < seg_downsample_ratio <= 1):
            raise UserError(f"model.loss.seg_downsample_ratio: expected a number in (0, 1] "
                            f"(got {seg_downsample_ratio!r})")
        if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
            raise UserError(f"model.loss.ignore_index: expected an integer "
                            f"(got {ignore_index!r})")
        self.seg_downsample_ratio = seg_downsample_ratio
        self.seg_with_loss_weight = seg_with_loss_weight
        self.ignore_index = ignore_index

    def seg_loss(self, out_head: torch.Tensor, gt_kernels: torch.Tensor) -> torch.Tensor:
        seg_map = out_head.float()
        target = gt_kernels[:, 1]
        if self.seg_downsample_ratio != 1:
            # mmdet rescales the map by the ratio (nearest) and never pads or crops: a size that
            # then differs from the logits' is an error in MMOCR too (cross_entropy's)
            target = fit_target(target, (int(target.shape[-2] * self.seg_downsample_ratio + 0.5),
                                         int(target.shape[-1] * self.seg_downsample_ratio + 0.5)),
                                self.seg_downsample_ratio)
        target = target.to(device=seg_map.device, dtype=torch.long)
        if target.shape[-2:] != seg_map.shape[-2:]:
            raise ValueError(f"SegLoss: target maps {tuple(target.shape[-2:])} (after "
                             f"seg_downsample_ratio={self.seg_downsample_ratio}) do not match "
                             f"the logits {tuple(seg_map.shape[-2:])}")
        weight = None
        if self.seg_with_loss_weight:
            n = torch.sum(target != self.ignore_index)
            n_neg = torch.sum(target == 0)
            weight = torch.ones(seg_map.size(1), device=seg_map.device)
            weight[1:] = 1.0 * n_neg / (n - n_neg)
        return F.cross_entropy(seg_map, target, weight=weight, ignore_index=self.ignore_index)

    def forward(self, out_neck: Any, out_head: torch.Tensor,
                gt_kernels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``out_head``: ``(N, C, H, W)`` logits; ``gt_kernels``: ``(N, 3, H', W')`` (the
        attention kernels, the class map, the mask). Returns ``{'loss_seg'}``."""
        return {"loss_seg": self.seg_loss(out_head, gt_kernels)}

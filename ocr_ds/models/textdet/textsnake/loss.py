"""``TextSnakeLoss``: MMOCR 0.6.3's TextSnake loss on ``TextSnakeTargets``'s maps.

* ``loss_text``: balanced BCE on the text region (OHEM: negatives at most ``ohem_ratio`` x
  positives, the hardest; 100 when there is no positive), outside ignored regions;
* ``loss_center``: BCE on the text center, averaged over text pixels;
* ``loss_radius``: smooth-L1 of predicted / true radius against 1, ``loss_sin``,
  ``loss_cos``: smooth-L1 of the normalised direction, all averaged over center pixels.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.textdet.losses import ohem_balanced_bce


def _rescale(maps: torch.Tensor, ratio: float, size: torch.Size) -> torch.Tensor:
    """``(N, H, W)`` targets at the prediction's ``size``: nearest-neighbour rescaled by
    ``ratio`` (mmcv's ``imrescale`` size rounding) when it is not 1, then zero-padded."""
    if abs(ratio - 1.0) >= 1e-2:
        h, w = maps.shape[-2:]
        new = (int(h * ratio + 0.5), int(w * ratio + 0.5))
        maps = F.interpolate(maps[:, None].float(), size=new, mode="nearest")[:, 0].to(
            maps.dtype)
    pad = [0, size[1] - maps.shape[-1], 0, size[0] - maps.shape[-2]]
    return F.pad(maps, pad, mode="constant", value=0)


class TextSnakeLoss(nn.Module):
    """Args:
        ohem_ratio: Negatives per positive kept by the balanced BCE. Defaults to 3.
    """

    def __init__(self, ohem_ratio: float = 3.0):
        super().__init__()
        self.ohem_ratio = ohem_ratio

    def balanced_bce_loss(self, pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor
                          ) -> torch.Tensor:
        return ohem_balanced_bce(pred, gt, mask, self.ohem_ratio)

    def forward(self, pred_maps: torch.Tensor, downsample_ratio: float,
                gt_text_mask: torch.Tensor, gt_center_region_mask: torch.Tensor,
                gt_mask: torch.Tensor, gt_radius_map: torch.Tensor, gt_sin_map: torch.Tensor,
                gt_cos_map: torch.Tensor) -> dict[str, torch.Tensor]:
        pred_text_region = pred_maps[:, 0, :, :]
        pred_center_region = pred_maps[:, 1, :, :]
        pred_sin_map = pred_maps[:, 2, :, :]
        pred_cos_map = pred_maps[:, 3, :, :]
        pred_radius_map = pred_maps[:, 4, :, :]
        size = pred_maps.shape[2:]
        device = pred_maps.device
        gt = {}
        for key, value in (("text", gt_text_mask), ("center", gt_center_region_mask),
                           ("mask", gt_mask), ("radius", gt_radius_map), ("sin", gt_sin_map),
                           ("cos", gt_cos_map)):
            gt[key] = _rescale(value.to(device), downsample_ratio, size)
        if abs(downsample_ratio - 1.0) >= 1e-2:
            gt["radius"] = gt["radius"] * downsample_ratio

        scale = torch.sqrt(1.0 / (pred_sin_map**2 + pred_cos_map**2 + 1e-8))
        pred_sin_map = pred_sin_map * scale
        pred_cos_map = pred_cos_map * scale

        loss_text = self.balanced_bce_loss(torch.sigmoid(pred_text_region), gt["text"],
                                           gt["mask"])
        text_mask = (gt["text"] * gt["mask"]).float()
        loss_center_map = F.binary_cross_entropy(torch.sigmoid(pred_center_region),
                                                 gt["center"].float(), reduction="none")
        zero = torch.tensor(0.0, device=device)
        loss_center = zero
        if int(text_mask.sum()) > 0:
            loss_center = torch.sum(loss_center_map * text_mask) / torch.sum(text_mask)

        center_mask = (gt["center"] * gt["mask"]).float()
        loss_radius, loss_sin, loss_cos = zero, zero, zero
        if int(center_mask.sum()) > 0:
            ones = torch.ones(pred_radius_map.size(), dtype=torch.float, device=device)
            n = torch.sum(center_mask)
            loss_radius = torch.sum(F.smooth_l1_loss(
                pred_radius_map / (gt["radius"] + 1e-2), ones, reduction="none")
                * center_mask) / n
            loss_sin = torch.sum(F.smooth_l1_loss(pred_sin_map, gt["sin"], reduction="none")
                                 * center_mask) / n
            loss_cos = torch.sum(F.smooth_l1_loss(pred_cos_map, gt["cos"], reduction="none")
                                 * center_mask) / n
        return dict(loss_text=loss_text, loss_center=loss_center, loss_radius=loss_radius,
                    loss_sin=loss_sin, loss_cos=loss_cos)

"""``DRRGLoss``: MMOCR 0.6.3's DRRG loss on ``DRRGTargets``'s maps and the GCN's edges.

* ``loss_text``: OHEM-balanced BCE on the text region outside ignored regions;
* ``loss_center``: BCE on the text center, averaged over text pixels, plus half its average
  over non-text pixels;
* ``loss_height``: smooth-L1 of predicted / true top and bottom heights against 1, weighted by
  ``log(height + 1)``; ``loss_sin``, ``loss_cos``: smooth-L1 of the normalised direction; all
  three averaged over center pixels;
* ``loss_gcn``: cross-entropy of the GCN's link logits against the local graphs' labels.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.models.textdet.losses import fit_target, ohem_balanced_bce

TARGET_KEYS = ("gt_text_mask", "gt_center_region_mask", "gt_mask", "gt_top_height_map",
               "gt_bot_height_map", "gt_sin_map", "gt_cos_map")


class DRRGLoss(nn.Module):
    """Args:
        ohem_ratio: Negatives per positive kept by the balanced BCE. Defaults to 3.
    """

    def __init__(self, ohem_ratio: float = 3.0):
        super().__init__()
        self.ohem_ratio = ohem_ratio

    def gcn_loss(self, gcn_data: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        gcn_pred, gt_labels = gcn_data
        return F.cross_entropy(gcn_pred, gt_labels.view(-1).to(gcn_pred.device))

    def forward(self, preds: tuple, downsample_ratio: float, gt_text_mask: torch.Tensor,
                gt_center_region_mask: torch.Tensor, gt_mask: torch.Tensor,
                gt_top_height_map: torch.Tensor, gt_bot_height_map: torch.Tensor,
                gt_sin_map: torch.Tensor, gt_cos_map: torch.Tensor) -> dict[str, torch.Tensor]:
        pred_maps, (gcn_pred, gcn_labels) = preds
        # fp32 whatever the engine's compute dtype (as the other detection losses)
        pred_maps, gcn_data = pred_maps.float(), (gcn_pred.float(), gcn_labels)
        pred_text_region = pred_maps[:, 0, :, :]
        pred_center_region = pred_maps[:, 1, :, :]
        pred_sin_map = pred_maps[:, 2, :, :]
        pred_cos_map = pred_maps[:, 3, :, :]
        pred_top_height_map = pred_maps[:, 4, :, :]
        pred_bot_height_map = pred_maps[:, 5, :, :]
        size = pred_maps.shape[2:]
        device = pred_maps.device
        ratio = 1.0 if abs(downsample_ratio - 1.0) < 1e-2 else downsample_ratio
        gt = {}
        for key, value in zip(TARGET_KEYS, (gt_text_mask, gt_center_region_mask, gt_mask,
                                            gt_top_height_map, gt_bot_height_map, gt_sin_map,
                                            gt_cos_map)):
            gt[key] = fit_target(value.to(device), size, ratio)
        if ratio != 1.0:
            gt["gt_top_height_map"] = gt["gt_top_height_map"] * ratio
            gt["gt_bot_height_map"] = gt["gt_bot_height_map"] * ratio

        scale = torch.sqrt(1.0 / (pred_sin_map**2 + pred_cos_map**2 + 1e-8))
        pred_sin_map = pred_sin_map * scale
        pred_cos_map = pred_cos_map * scale

        loss_text = ohem_balanced_bce(torch.sigmoid(pred_text_region), gt["gt_text_mask"],
                                      gt["gt_mask"], self.ohem_ratio)
        text_mask = gt["gt_text_mask"] * gt["gt_mask"]
        negative_text_mask = (1 - gt["gt_text_mask"]) * gt["gt_mask"]
        loss_center_map = F.binary_cross_entropy(torch.sigmoid(pred_center_region),
                                                 gt["gt_center_region_mask"], reduction="none")
        zero = torch.tensor(0.0, device=device)
        loss_center_positive = zero
        if int(text_mask.sum()) > 0:
            loss_center_positive = torch.sum(loss_center_map * text_mask) / torch.sum(text_mask)
        loss_center_negative = torch.sum(loss_center_map * negative_text_mask) / torch.sum(
            negative_text_mask)
        loss_center = loss_center_positive + 0.5 * loss_center_negative

        center_mask = gt["gt_center_region_mask"] * gt["gt_mask"]
        loss_height, loss_sin, loss_cos = zero, zero, zero
        if int(center_mask.sum()) > 0:
            ones = torch.ones(pred_top_height_map.size(), dtype=torch.float, device=device)
            loss_top = F.smooth_l1_loss(pred_top_height_map / (gt["gt_top_height_map"] + 1e-2),
                                        ones, reduction="none")
            loss_bot = F.smooth_l1_loss(pred_bot_height_map / (gt["gt_bot_height_map"] + 1e-2),
                                        ones, reduction="none")
            gt_height = gt["gt_top_height_map"] + gt["gt_bot_height_map"]
            n = torch.sum(center_mask)
            loss_height = torch.sum((torch.log(gt_height + 1) * (loss_top + loss_bot))
                                    * center_mask) / n
            loss_sin = torch.sum(F.smooth_l1_loss(pred_sin_map, gt["gt_sin_map"],
                                                  reduction="none") * center_mask) / n
            loss_cos = torch.sum(F.smooth_l1_loss(pred_cos_map, gt["gt_cos_map"],
                                                  reduction="none") * center_mask) / n

        return dict(loss_text=loss_text, loss_center=loss_center, loss_height=loss_height,
                    loss_sin=loss_sin, loss_cos=loss_cos, loss_gcn=self.gcn_loss(gcn_data))

"""DRRG: Deep Relational Reasoning Graph Network for Arbitrary Shape Text Detection
(Zhang et al., CVPR 2020)."""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class DRRG(SingleStageTextDetector):
    """``ResNet -> FPN_UNet -> DRRGHead``; trained on ``DRRGTargets``'s maps and text
    components (``gt_comp_attribs``).

    Training returns ``{'loss_text', 'loss_center', 'loss_height', 'loss_sin', 'loss_cos',
    'loss_gcn'}``; testing decodes each image on its own, as MMOCR (whose DRRG tests one image
    per batch).
    """

    target_keys = ("gt_text_mask", "gt_center_region_mask", "gt_mask", "gt_top_height_map",
                   "gt_bot_height_map", "gt_sin_map", "gt_cos_map")
    targets_step = "DRRGTargets"

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True
                ) -> dict[str, torch.Tensor] | list[dict]:
        img = batch["img"]
        if return_loss:
            self.check_targets(batch, self.target_keys + ("gt_comp_attribs",))
            preds = self.bbox_head(self.extract_feat(img), batch["gt_comp_attribs"])
            targets = {k: batch[k].to(img.device) for k in self.target_keys}
            return self.bbox_head.loss(preds, **targets)
        metas = batch.get("img_metas") or [{} for _ in range(img.shape[0])]
        feats = self.extract_feat(img)
        return [self.bbox_head.get_boundary(*self.bbox_head.single_test(feats[i:i + 1]),
                                            metas[i]) for i in range(img.shape[0])]

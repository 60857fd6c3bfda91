"""FCENet: Fourier Contour Embedding for Arbitrary-Shaped Text Detection (Zhu et al., 2021)."""
from __future__ import annotations

from typing import Any

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class FCENet(SingleStageTextDetector):
    """``ResNet -> mmdet.FPN (P3-P5) -> FCEHead``; trained on ``FCENetTargets``'s per-level
    maps. Training returns ``{'loss_text', 'loss_center', 'loss_reg_x', 'loss_reg_y'}``.

    Testing decodes every image of a batch (MMOCR 0.6.3 decodes only the first;
    its FCENet configs test with one image per batch).
    """

    target_keys = ("p3_maps", "p4_maps", "p5_maps")
    targets_step = "FCENetTargets"

    @staticmethod
    def sample_preds(preds: Any, i: int) -> Any:
        return [[t[i:i + 1] for t in level] for level in preds]

"""TextSnake: A Flexible Representation for Detecting Text of Arbitrary Shapes (Long et al.)."""
from __future__ import annotations

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class TextSnake(SingleStageTextDetector):
    """``ResNet -> FPN_UNet -> TextSnakeHead``; trained on ``TextSnakeTargets``'s maps.

    Training returns ``{'loss_text', 'loss_center', 'loss_radius', 'loss_sin', 'loss_cos'}``.
    """

    target_keys = ("gt_text_mask", "gt_center_region_mask", "gt_mask", "gt_radius_map",
                   "gt_sin_map", "gt_cos_map")
    targets_step = "TextSnakeTargets"

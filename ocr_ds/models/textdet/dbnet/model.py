"""``DBNet``: Real-time Scene Text Detection with Differentiable Binarization (Liao et al.,
2020); DBNet++ is the same model with ``FPNC(asf_cfg=...)``."""
from __future__ import annotations

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class DBNet(SingleStageTextDetector):
    """``ResNet -> FPNC -> DBHead``; trained on ``DBNetTargets``'s maps.

    Training returns ``{'loss_prob', 'loss_db', 'loss_thr'}``.
    """

    target_keys = ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask")
    targets_step = "DBNetTargets"

"""PSENet: Shape Robust Text Detection with Progressive Scale Expansion Network (Wang et al.)."""
from __future__ import annotations

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class PSENet(SingleStageTextDetector):
    """``ResNet -> FPNF -> PSEHead``; trained on ``PSENetTargets``'s kernels.

    Training returns ``{'loss_text', 'loss_kernel'}``.
    """

    target_keys = ("gt_kernels", "gt_mask")
    targets_step = "PSENetTargets"

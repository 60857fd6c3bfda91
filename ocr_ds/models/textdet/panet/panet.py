"""PANet: ``ResNet -> FPEM_FFM -> PANHead``, trained on ``PANetTargets``'s labelled kernels."""
from __future__ import annotations

from ocr_ds.models.textdet.detector import SingleStageTextDetector


class PANet(SingleStageTextDetector):
    """Training returns ``{'loss_text', 'loss_kernel', 'loss_aggregation',
    'loss_discrimination'}``; testing the boundaries ``PANPostprocessor`` decodes."""

    target_keys = ("gt_kernels", "gt_mask")
    targets_step = "PANetTargets"

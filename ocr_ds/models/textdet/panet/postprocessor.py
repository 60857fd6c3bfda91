"""``PANPostprocessor``: PANet's maps -> text boundaries, as MMOCR 0.6.3 decodes them.

Text and kernel logits are thresholded (a kernel pixel must also be text); the kernels'
4-connected components seed the instances, which :func:`.pixel_group.pixel_group` grows over
the text mask by embedding distance. Instances smaller than ``min_text_area`` pixels or with a
mean text probability not above ``min_text_avg_confidence`` are dropped; the rest become a
minimum-area rectangle ('quad') or the outer contour of their pixels ('poly').

MMOCR passes ``min_text_avg_confidence`` (0.85) to ``pixel_group`` as its embedding distance
threshold as well; so does this class, for the same boundaries.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.panet.pixel_group import pixel_group
from ocr_ds.models.textdet.postprocess import check_repr_type, points2boundary


class PANPostprocessor:
    """Args:
        text_repr_type: 'poly' or 'quad'. Defaults to 'poly'.
        min_text_confidence: Text probability threshold. Defaults to 0.5.
        min_kernel_confidence: Kernel probability threshold. Defaults to 0.5.
        min_text_avg_confidence: Smallest mean text probability kept (exclusive), and the
            embedding distance threshold of the grouping. Defaults to 0.85.
        min_text_area: Smallest instance kept, in pixels of the map. Defaults to 16.
    """

    def __init__(self, text_repr_type: str = "poly", min_text_confidence: float = 0.5,
                 min_kernel_confidence: float = 0.5, min_text_avg_confidence: float = 0.85,
                 min_text_area: int = 16, **kwargs: object):
        self.text_repr_type = check_repr_type(text_repr_type, "model.bbox_head.postprocessor")
        for name, value in (("min_text_confidence", min_text_confidence),
                            ("min_kernel_confidence", min_kernel_confidence),
                            ("min_text_avg_confidence", min_text_avg_confidence)):
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise UserError(f"model.bbox_head.postprocessor.{name}: expected a number in "
                                f"[0, 1] (got {value!r})")
        self.min_text_confidence = min_text_confidence
        self.min_kernel_confidence = min_kernel_confidence
        self.min_text_avg_confidence = float(min_text_avg_confidence)
        self.min_text_area = min_text_area

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        """``preds``: ``(C, H, W)`` text logits, kernel logits, embedding."""
        if preds.dim() != 3 or preds.shape[0] < 3:
            raise ValueError(f"PANPostprocessor: expected (C >= 3, H, W) maps, "
                             f"got {tuple(preds.shape)}")
        preds = preds.detach().float()
        probs = torch.sigmoid(preds[:2]).cpu().numpy()
        embeddings = preds[2:].cpu().numpy().transpose((1, 2, 0))
        text_score = probs[0]
        text = text_score > self.min_text_confidence
        kernel = (probs[1] > self.min_kernel_confidence) * text
        region_num, labels = cv2.connectedComponents(kernel.astype(np.uint8), connectivity=4)
        contours, _ = cv2.findContours((kernel * 255).astype(np.uint8), cv2.RETR_LIST,
                                       cv2.CHAIN_APPROX_NONE)
        kernel_contours = np.zeros(text.shape, dtype=np.uint8)
        cv2.drawContours(kernel_contours, contours, -1, 255)
        groups = pixel_group(text_score, text, embeddings, labels, kernel_contours,
                             region_num, self.min_text_avg_confidence)
        boundaries = []
        for group in groups:
            confidence = group[0]
            points = np.array(group[2:], dtype=int).reshape(-1, 2)
            if not (points.shape[0] >= self.min_text_area
                    and confidence > self.min_text_avg_confidence):
                continue
            boundary = points2boundary(points, self.text_repr_type, confidence)
            if boundary is not None:
                boundaries.append(boundary)
        return boundaries

"""``DBPostprocessor``: DBNet's probability map -> text boundaries, as MMOCR 0.6.3 decodes it.

Binarise at ``mask_thr``; for each contour (``cv2.findContours``, list mode, at most
``max_candidates + 1`` of them, as MMOCR's off-by-one loop): simplify it
(``approxPolyDP``, ``epsilon_ratio`` x its length), drop it under 4 points, score it by the
mean probability inside its polygon, drop it under ``min_text_score``, grow it back by
``area * unclip_ratio / perimeter`` (pyclipper, round joins), and return the minimum-area
rectangle ('quad'; dropped when thinner than ``min_text_width``) or the grown polygon ('poly').

Where the offset returns several paths MMOCR stacks them with ``np.array``: paths of one length
become one point set (kept, as MMOCR keeps them); paths of different lengths make a ragged
array, which numpy 1.24+ refuses (MMOCR 0.6.3 then raises) and older numpy made an object array
that MMOCR dropped: such candidates are dropped here.
"""
from __future__ import annotations

import cv2
import numpy as np
import pyclipper
import torch
from shapely.geometry import Polygon

from ocr_ds.models.textdet.postprocess import check_repr_type, points2boundary


def box_score_fast(bitmap: np.ndarray, box: np.ndarray) -> float:
    """Mean of ``bitmap`` inside the polygon ``box`` (filled on its clipped bounding box)."""
    h, w = bitmap.shape[:2]
    box = box.copy()
    xmin = np.clip(np.floor(box[:, 0].min()).astype(np.int32), 0, w - 1)
    xmax = np.clip(np.ceil(box[:, 0].max()).astype(np.int32), 0, w - 1)
    ymin = np.clip(np.floor(box[:, 1].min()).astype(np.int32), 0, h - 1)
    ymax = np.clip(np.ceil(box[:, 1].max()).astype(np.int32), 0, h - 1)
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    box[:, 0] = box[:, 0] - xmin
    box[:, 1] = box[:, 1] - ymin
    cv2.fillPoly(mask, box.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(bitmap[ymin:ymax + 1, xmin:xmax + 1], mask)[0]


def unclip(box: np.ndarray, unclip_ratio: float = 1.5) -> np.ndarray | None:
    """The polygon grown by ``area * unclip_ratio / perimeter`` as an ``(n, 2)`` int array
    (several paths of one length concatenated), or None when there is nothing or the paths
    differ in length (see the module docstring)."""
    poly = Polygon(box)
    distance = poly.area * unclip_ratio / poly.length
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    paths = offset.Execute(distance)
    if not paths or len({len(p) for p in paths}) > 1:
        return None
    return np.array(paths).reshape(-1, 2)


class DBPostprocessor:
    """Args (MMOCR's): text_repr_type='poly', mask_thr=0.3, min_text_score=0.3,
    min_text_width=5, unclip_ratio=1.5, epsilon_ratio=0.01, max_candidates=3000."""

    def __init__(self, text_repr_type: str = "poly", mask_thr: float = 0.3,
                 min_text_score: float = 0.3, min_text_width: int = 5,
                 unclip_ratio: float = 1.5, epsilon_ratio: float = 0.01,
                 max_candidates: int = 3000, **kwargs: object):
        self.text_repr_type = check_repr_type(text_repr_type, "model.bbox_head.postprocessor")
        self.mask_thr = mask_thr
        self.min_text_score = min_text_score
        self.min_text_width = min_text_width
        self.unclip_ratio = unclip_ratio
        self.epsilon_ratio = epsilon_ratio
        self.max_candidates = max_candidates

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        """``preds``: ``(C, H, W)``, the probability map first."""
        prob_map = preds[0].detach().float()
        score_map = prob_map.cpu().numpy().astype(np.float32)
        text_mask = (prob_map > self.mask_thr).cpu().numpy().astype(np.uint8)
        contours, _ = cv2.findContours(text_mask * 255, cv2.RETR_LIST,
                                       cv2.CHAIN_APPROX_SIMPLE)
        boundaries = []
        for i, contour in enumerate(contours):
            if i > self.max_candidates:
                break
            epsilon = self.epsilon_ratio * cv2.arcLength(contour, True)
            points = cv2.approxPolyDP(contour, epsilon, True).reshape((-1, 2))
            if points.shape[0] < 4:
                continue
            score = box_score_fast(score_map, points)
            if score < self.min_text_score:
                continue
            poly = unclip(points, unclip_ratio=self.unclip_ratio)
            if poly is None:
                continue
            if self.text_repr_type == "quad":
                boundary = points2boundary(poly, "quad", score, self.min_text_width)
            else:
                boundary = poly.flatten().tolist() + [score]
                if len(boundary) < 8:
                    boundary = None
            if boundary is not None:
                boundaries.append(boundary)
        return boundaries

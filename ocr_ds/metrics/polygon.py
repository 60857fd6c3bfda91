"""Polygon geometry of the detection metrics, computed as MMOCR 0.6.3's
``mmocr/core/evaluation/utils.py`` computes it.

A boundary ``[x1, y1, ..., xk, yk]`` (k >= 4, any k: CTW1500 has 14 points) becomes a shapely
polygon of exactly those points, so a self-intersecting (non-simple) one stays invalid. MMOCR
then uses two different areas, and so do we:

* intersections and unions are taken between *cleaned* polygons (``buffer(0)`` of an invalid
  one, which keeps only the part a bow tie encloses once; a zero-area one becomes empty);
* a polygon's own area, the denominator of the don't-care test and of hmean-ic13's
  recall/precision, is the *raw* polygon's (GEOS's shoelace sum: a symmetric bow tie has area 0,
  and a zero area means "no overlap" rather than a division by zero).

IoU is intersection / union of the cleaned polygons (0 when the union is empty).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from shapely.geometry import Polygon

from ocr_ds.errors import UserError


class Shape:
    """One boundary: the raw polygon, its cleaned version and the raw area."""

    __slots__ = ("raw", "valid", "area", "bounds")

    def __init__(self, points: Sequence[float], what: str = "a boundary"):
        pts = np.asarray(points)
        if pts.size % 2 or pts.size < 8:
            raise UserError(f"{what}: expected [x1, y1, ..., xk, yk] with k >= 4 points, an even "
                            f"number (>= 8) of coordinates (got {pts.size})")
        self.raw = Polygon(pts.reshape(-1, 2))
        self.valid = self.raw if self.raw.is_valid else self.raw.buffer(0)
        self.area = self.raw.area
        self.bounds = self.raw.bounds  # the cleaned polygon lies inside the raw one's bounds

    def apart(self, other: "Shape") -> bool:
        """True when the bounding boxes are disjoint: no overlap, intersection area 0."""
        a, b = self.bounds, other.bounds
        return not a or not b or a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


def intersection_area(det: Shape, gt: Shape) -> float:
    """Area of the intersection of the cleaned polygons (MMOCR's ``poly_intersection``)."""
    if det.apart(gt):
        return 0.0
    return det.valid.intersection(gt.valid).area


def iou(det: Shape, gt: Shape) -> float:
    """MMOCR's ``poly_iou``: intersection / union of the cleaned polygons, 0 if no union."""
    inter = intersection_area(det, gt)
    if inter == 0:
        return 0.0
    union = det.valid.union(gt.valid).area
    return inter / union if union != 0 else 0.0


def ignored_predictions(preds: Sequence[Shape], ignored_gts: Sequence[Shape],
                        precision_thr: float) -> list[bool]:
    """For each prediction: does it cover some don't-care region by more than
    ``precision_thr`` of its own (raw) area? (MMOCR's ``ignore_pred``.)"""
    out = []
    for pred in preds:
        hit = False
        for gt in ignored_gts:
            inter = intersection_area(pred, gt)
            precision = 0 if pred.area == 0 else inter / pred.area
            if precision > precision_thr:
                hit = True
                break
        out.append(hit)
    return out


def compute_hmean(hit_recall: float, hit_prec: float, gt_num: int,
                  pred_num: int) -> tuple[float, float, float]:
    """(recall, precision, hmean). No ground truth: recall 1, precision 1 only without
    predictions (MMOCR's convention)."""
    if gt_num == 0:
        recall = 1.0
        precision = 0.0 if pred_num > 0 else 1.0
    else:
        recall = float(hit_recall) / gt_num
        precision = 0.0 if pred_num == 0 else float(hit_prec) / pred_num
    denom = recall + precision
    return recall, precision, 0.0 if denom == 0 else 2.0 * precision * recall / denom

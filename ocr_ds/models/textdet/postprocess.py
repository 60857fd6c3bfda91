"""From predicted maps to text boundaries: helpers the post-processors share
(DBNet's: :mod:`ocr_ds.models.textdet.dbnet.postprocess`).

A boundary is a flat list ``[x1, y1, ..., xn, yn, score]`` (n >= 4) in the coordinates of
the map it was decoded from; the detector rescales it to the original image.
"""
from __future__ import annotations

import cv2
import numpy as np

from ocr_ds.errors import UserError


def check_repr_type(text_repr_type: str, key: str) -> str:
    if text_repr_type not in ("quad", "poly"):
        raise UserError(f"{key}.text_repr_type: expected 'quad' or 'poly' "
                        f"(got {text_repr_type!r})")
    return text_repr_type


def points2boundary(points: np.ndarray, text_repr_type: str, text_score: float | None = None,
                    min_width: float = -1) -> list[float] | None:
    """Turn a point set (a contour, or every pixel of a region, as ``(n, 2)`` x,y) into a
    boundary: its minimum-area rectangle ('quad', dropped when thinner than ``min_width``) or
    its outer contour ('poly'). Returns None when fewer than 4 vertices remain."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        return None
    if text_repr_type == "quad":
        rect = cv2.minAreaRect(points.astype(np.float32))
        if min(rect[1]) <= min_width:
            return None
        boundary = cv2.boxPoints(rect).flatten().tolist()
    else:
        pts = np.round(points).astype(np.int32)
        origin = pts.min(axis=0)
        pts = pts - origin
        mask = np.zeros((pts[:, 1].max() + 3, pts[:, 0].max() + 3), np.uint8)
        mask[pts[:, 1] + 1, pts[:, 0] + 1] = 255
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        if not contours:
            return None
        contour = max(contours, key=cv2.contourArea).reshape(-1, 2) + origin - 1
        boundary = contour.astype(np.float64).flatten().tolist()
    if len(boundary) < 8:
        return None
    if text_score is not None:
        boundary = boundary + [float(text_score)]
    return boundary




def min_area_rect(points: np.ndarray) -> tuple:
    """``cv2.minAreaRect`` in OpenCV 4's convention, whatever OpenCV is installed.

    OpenCV 5 reports the angle in [-90, 0) where OpenCV 4 (MMOCR's) reports (0, 90], so the
    corners of ``cv2.boxPoints`` start one vertex later. A rotated rectangle is mapped back
    exactly (sides swapped, angle + 90); an axis-aligned one (OpenCV 5: -90) is the same
    rectangle either way, but OpenCV 4 starts its corners at a vertex only its own search
    decides, so there the first corner may differ from MMOCR's.
    """
    (cx, cy), (w, h), angle = cv2.minAreaRect(np.asarray(points).astype(np.float32))
    if -90 < angle < 0:
        return (cx, cy), (h, w), angle + 90
    return (cx, cy), (w, h), angle

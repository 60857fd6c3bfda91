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
    """A point set (a polygon, or every pixel of a region, as ``(n, 2)`` x,y) as a boundary,
    exactly as MMOCR's ``mmocr.core.points2boundary``: its minimum-area rectangle ('quad',
    nothing when not wider than ``min_width``), or the first outer contour (simple chain) of
    the points drawn on a mask ('poly'). Returns None when fewer than 4 vertices remain
    (counting the score, as MMOCR does)."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        return None
    # OpenCV takes int32 / float32 points (4.x also converted int64 itself, 5.x refuses)
    points = points.astype(np.int32 if np.issubdtype(points.dtype, np.integer) else np.float32)
    if text_repr_type == "quad":
        rect = cv2.minAreaRect(points)
        boundary = cv2.boxPoints(rect).flatten().tolist() if min(rect[1]) > min_width else []
    else:
        points = points.astype(np.int64)
        mask = np.zeros((points[:, 1].max() + 10, points[:, 0].max() + 10), np.uint8)
        mask[points[:, 1], points[:, 0]] = 255
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boundary = contours[0].flatten().tolist()
    if text_score is not None:
        boundary = boundary + [text_score]
    if len(boundary) < 8:
        return None
    return boundary

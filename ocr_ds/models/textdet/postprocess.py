"""From predicted maps to text boundaries: shared helpers and DBNet's post-processor.

A boundary is a flat list ``[x1, y1, ..., xn, yn, score]`` (n >= 4) in the coordinates of
the map it was decoded from; the detector rescales it to the original image.
"""
from __future__ import annotations

import cv2
import numpy as np
import pyclipper
import torch

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


def box_score_fast(score_map: np.ndarray, points: np.ndarray) -> float:
    """Mean of ``score_map`` inside the polygon ``points`` (computed on its bounding box)."""
    h, w = score_map.shape[:2]
    box = np.asarray(points, dtype=np.float64).reshape(-1, 2).copy()
    xmin = int(np.clip(np.floor(box[:, 0].min()), 0, w - 1))
    xmax = int(np.clip(np.ceil(box[:, 0].max()), 0, w - 1))
    ymin = int(np.clip(np.floor(box[:, 1].min()), 0, h - 1))
    ymax = int(np.clip(np.ceil(box[:, 1].max()), 0, h - 1))
    mask = np.zeros((ymax - ymin + 1, xmax - xmin + 1), dtype=np.uint8)
    box[:, 0] -= xmin
    box[:, 1] -= ymin
    cv2.fillPoly(mask, [box.astype(np.int32)], 1)
    return float(cv2.mean(score_map[ymin:ymax + 1, xmin:xmax + 1], mask)[0])


def polygon_area_perimeter(points: np.ndarray) -> tuple[float, float]:
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 1, 2)
    return abs(float(cv2.contourArea(pts))), float(cv2.arcLength(pts, True))


def unclip(points: np.ndarray, unclip_ratio: float = 1.5) -> np.ndarray | None:
    """Grow a polygon by ``area * unclip_ratio / perimeter`` (DBNet's inverse of the shrink).

    Returns the ``(n, 2)`` grown polygon, or None when the offset yields nothing. Where the
    offset splits into several pieces the largest is kept (MMOCR drops such regions)."""
    area, length = polygon_area_perimeter(points)
    if length == 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(np.round(points).astype(np.int64).reshape(-1, 2).tolist(),
                   pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    paths = offset.Execute(area * unclip_ratio / length)
    if not paths:
        return None
    best = max(paths, key=lambda p: polygon_area_perimeter(np.array(p))[0])
    return np.array(best, dtype=np.float64).reshape(-1, 2)


class DBPostprocessor:
    """Decode DBNet's probability map into boundaries.

    Binarise at ``mask_thr``, take each contour (simplified by ``epsilon_ratio`` x its length),
    score it by the mean probability inside, drop it below ``min_text_score``, grow it back by
    ``unclip_ratio`` and return its minimum-area rectangle ('quad', dropped when thinner than
    ``min_text_width``) or the grown polygon ('poly').
    """

    def __init__(self, text_repr_type: str = "poly", mask_thr: float = 0.3,
                 min_text_score: float = 0.3, min_text_width: int = 5,
                 unclip_ratio: float = 1.5, epsilon_ratio: float = 0.01,
                 max_candidates: int = 3000, **kwargs: object):
        self.text_repr_type = check_repr_type(text_repr_type, "postprocessor")
        self.mask_thr = mask_thr
        self.min_text_score = min_text_score
        self.min_text_width = min_text_width
        self.unclip_ratio = unclip_ratio
        self.epsilon_ratio = epsilon_ratio
        self.max_candidates = max_candidates

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        """``preds``: ``(C, H, W)`` with the probability map first."""
        prob = preds[0].detach().float().cpu().numpy()
        text_mask = (prob > self.mask_thr).astype(np.uint8) * 255
        contours, _ = cv2.findContours(text_mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boundaries = []
        for contour in contours[:self.max_candidates]:
            epsilon = self.epsilon_ratio * cv2.arcLength(contour, True)
            points = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2)
            if len(points) < 4:
                continue
            score = box_score_fast(prob, points)
            if score < self.min_text_score:
                continue
            poly = unclip(points, self.unclip_ratio)
            if poly is None or len(poly) < 4:
                continue
            if self.text_repr_type == "quad":
                boundary = points2boundary(poly, "quad", score, self.min_text_width)
            else:
                boundary = poly.flatten().tolist() + [score]
            if boundary is not None:
                boundaries.append(boundary)
        return boundaries

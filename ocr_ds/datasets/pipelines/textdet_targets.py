"""Training targets of the segmentation text detectors: ``DBNetTargets``, ``PSENetTargets``.

Both read the polygons ``results['gt_masks']`` (text) and ``results['gt_masks_ignore']``
(``###`` don't-care regions), lists of flat ``[x1, y1, ..., xn, yn]`` arrays in image
coordinates, and replace them by dense maps of the image size, listed in
``results['seg_fields']`` so later geometric steps (flip, rotate, crop, pad) move them with
the image:

* ``DBNetTargets``: ``gt_shrink`` (uint8, text kernels shrunk by ``shrink_ratio``),
  ``gt_shrink_mask`` (uint8, 0 on ignored regions), ``gt_thr`` (float32 threshold map in
  ``[thr_min, thr_max]``), ``gt_thr_mask`` (uint8, the dilated border band).
* ``PSENetTargets``: ``gt_kernels`` (uint8 ``(K, H, W)``, one kernel per ratio, the first the
  full text) and ``gt_mask`` (uint8, 0 on ignored regions).

Polygon offsets use pyclipper (round joins), areas/perimeters OpenCV.
"""
from __future__ import annotations

import sys
from typing import Any, Sequence

import cv2
import numpy as np
import pyclipper

from ocr_ds.errors import UserError


def polygon_area(poly: np.ndarray) -> float:
    return abs(float(cv2.contourArea(np.asarray(poly, np.float32).reshape(-1, 1, 2))))


def polygon_perimeter(poly: np.ndarray) -> float:
    return float(cv2.arcLength(np.asarray(poly, np.float32).reshape(-1, 1, 2), True))


def polygon_min_side(poly: np.ndarray) -> float:
    """Shorter side of the polygon's minimum-area rectangle (integer vertices, as MMOCR)."""
    return float(min(cv2.minAreaRect(np.asarray(poly).reshape(-1, 2).astype(np.int32))[1]))


def offset_polygon(poly: np.ndarray, distance: float) -> np.ndarray | None:
    """Offset (grow > 0, shrink < 0) an integer polygon; the first resulting path or None."""
    pco = pyclipper.PyclipperOffset()
    pco.AddPath(np.asarray(poly).reshape(-1, 2).astype(np.int64).tolist(),
                pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    paths = pco.Execute(distance)
    if not paths or len(paths[0]) < 3:
        return None
    return np.asarray(paths[0], dtype=np.int64).reshape(-1, 2)


def shrink_distance(poly: np.ndarray, ratio: float, max_shrink: float = sys.maxsize) -> int:
    """PSENet/DBNet's offset ``d = A (1 - r^2) / L``, rounded, at most ``max_shrink``."""
    area = polygon_area(poly)
    peri = polygon_perimeter(poly)
    return int(min(int(area * (1 - ratio * ratio) / (peri + 0.001) + 0.5), max_shrink))


def draw_kernels(shape: tuple[int, int], polys: Sequence[np.ndarray], ratio: float,
                 max_shrink: float = sys.maxsize) -> tuple[np.ndarray, list[bool]]:
    """Fill each polygon shrunk by ``ratio``; returns the uint8 map and, per polygon, whether
    it vanished (MMOCR then treats it as ignored)."""
    kernel = np.zeros(shape, dtype=np.uint8)
    vanished = []
    for poly in polys:
        inst = np.asarray(poly).reshape(-1, 2).astype(np.int32)
        dist = shrink_distance(inst, ratio, max_shrink)
        shrunk = offset_polygon(inst, -dist)
        vanished.append(shrunk is None)
        if shrunk is not None:
            cv2.fillPoly(kernel, [shrunk.astype(np.int32)], 1)
    return kernel, vanished


def effective_mask(shape: tuple[int, int], ignored: Sequence[np.ndarray]) -> np.ndarray:
    """Ones, with every ignored polygon filled with 0."""
    mask = np.ones(shape, dtype=np.uint8)
    for poly in ignored:
        cv2.fillPoly(mask, [np.asarray(poly).reshape(-1, 2).astype(np.int32)], 0)
    return mask


def point_to_segment(xs: np.ndarray, ys: np.ndarray, p1: np.ndarray,
                     p2: np.ndarray) -> np.ndarray:
    """Euclidean distance of every (xs, ys) to the segment p1-p2."""
    d = p2 - p1
    seg2 = float(d @ d)
    if seg2 == 0:
        return np.hypot(xs - p1[0], ys - p1[1])
    t = np.clip(((xs - p1[0]) * d[0] + (ys - p1[1]) * d[1]) / seg2, 0, 1)
    return np.hypot(xs - (p1[0] + t * d[0]), ys - (p1[1] + t * d[1]))


def _take_polys(results: dict[str, Any], key: str) -> list[np.ndarray]:
    return [np.asarray(p, dtype=np.float64).reshape(-1) for p in results.get(key, [])]


def _finish(results: dict[str, Any], maps: dict[str, np.ndarray]) -> dict[str, Any]:
    """Drop the polygon annotations (consumed) and register the maps for later steps."""
    for key in ("gt_masks", "gt_masks_ignore", "gt_bboxes", "gt_bboxes_ignore", "gt_labels"):
        results.pop(key, None)
    results["mask_fields"] = []
    results["bbox_fields"] = []
    seg_fields = results.setdefault("seg_fields", [])
    for key, value in maps.items():
        results[key] = value
        if key not in seg_fields:
            seg_fields.append(key)
    return results


class DBNetTargets:
    """DBNet's shrink map, threshold map and their masks.

    Polygons with area < 1 or a minimum-rectangle side < ``min_short_size``, and those that
    vanish when shrunk, are moved to the ignored set.

    Args:
        shrink_ratio: Area ratio of kernels to texts (the offset is ``A (1 - r^2) / L``).
            Defaults to 0.4.
        thr_min, thr_max: Range of the threshold map. Defaults to 0.3, 0.7.
        min_short_size: Shorter side below which a text is ignored. Defaults to 8.
    """

    def __init__(self, shrink_ratio: float = 0.4, thr_min: float = 0.3, thr_max: float = 0.7,
                 min_short_size: int = 8):
        if not 0 < shrink_ratio <= 1:
            raise UserError(f"DBNetTargets.shrink_ratio: expected a value in (0, 1] "
                            f"(got {shrink_ratio!r})")
        self.shrink_ratio = float(shrink_ratio)
        self.thr_min = thr_min
        self.thr_max = thr_max
        self.min_short_size = min_short_size

    def is_invalid(self, poly: np.ndarray) -> bool:
        return polygon_area(poly) < 1 or polygon_min_side(poly) < self.min_short_size

    def draw_border_map(self, poly: np.ndarray, canvas: np.ndarray, mask: np.ndarray) -> None:
        """Raise ``canvas`` to ``1 - dist/D`` in the band of width D around the polygon's edges
        (D the shrink offset), and mark the dilated polygon in ``mask``."""
        poly = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        area, length = polygon_area(poly), polygon_perimeter(poly)
        if length == 0:
            return
        distance = area * (1 - self.shrink_ratio ** 2) / length
        padded = offset_polygon(poly, distance)
        if padded is None:
            padded = poly.astype(np.int64)
        cv2.fillPoly(mask, [padded.astype(np.int32)], 1)
        x0, y0 = padded.min(axis=0)
        x1, y1 = padded.max(axis=0)
        h, w = canvas.shape
        vx0, vx1 = max(0, x0), min(w - 1, x1)
        vy0, vy1 = max(0, y0), min(h - 1, y1)
        if vx0 > vx1 or vy0 > vy1 or distance <= 0:
            return
        ys, xs = np.mgrid[vy0:vy1 + 1, vx0:vx1 + 1].astype(np.float64)
        dist = np.full(xs.shape, np.inf)
        for i in range(len(poly)):
            dist = np.minimum(dist, point_to_segment(xs, ys, poly[i], poly[(i + 1) % len(poly)]))
        value = 1 - np.clip(dist / distance, 0, 1)
        region = canvas[vy0:vy1 + 1, vx0:vx1 + 1]
        np.fmax(region, value.astype(np.float32), out=region)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        polys = _take_polys(results, "gt_masks")
        ignored = _take_polys(results, "gt_masks_ignore")
        keep = []
        for poly in polys:
            (ignored if self.is_invalid(poly) else keep).append(poly)
        gt_shrink, vanished = draw_kernels((h, w), keep, self.shrink_ratio)
        ignored += [p for p, v in zip(keep, vanished) if v]
        keep = [p for p, v in zip(keep, vanished) if not v]
        gt_thr = np.zeros((h, w), dtype=np.float32)
        gt_thr_mask = np.zeros((h, w), dtype=np.uint8)
        for poly in keep:
            self.draw_border_map(poly, gt_thr, gt_thr_mask)
        gt_thr = gt_thr * (self.thr_max - self.thr_min) + self.thr_min
        return _finish(results, dict(gt_shrink=gt_shrink,
                                     gt_shrink_mask=effective_mask((h, w), ignored),
                                     gt_thr=gt_thr.astype(np.float32), gt_thr_mask=gt_thr_mask))


class PSENetTargets:
    """PSENet's text kernels, one per shrink ratio (largest first), and the effective mask.

    Args:
        shrink_ratio: Kernel area ratios, the first 1.0 (the full text).
            Defaults to (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4): 7 kernels, min ratio 0.4.
        max_shrink: Largest shrink offset in pixels. Defaults to 20.
    """

    def __init__(self, shrink_ratio: Sequence[float] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4),
                 max_shrink: int = 20):
        ratios = [float(r) for r in shrink_ratio]
        if not ratios or any(not 0 < r <= 1 for r in ratios):
            raise UserError(f"PSENetTargets.shrink_ratio: expected ratios in (0, 1] "
                            f"(got {shrink_ratio!r})")
        self.shrink_ratio = ratios
        self.max_shrink = max_shrink

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        polys = _take_polys(results, "gt_masks")
        kernels = np.stack([draw_kernels((h, w), polys, r, self.max_shrink)[0]
                            for r in self.shrink_ratio])
        mask = effective_mask((h, w), _take_polys(results, "gt_masks_ignore"))
        return _finish(results, dict(gt_kernels=kernels, gt_mask=mask))

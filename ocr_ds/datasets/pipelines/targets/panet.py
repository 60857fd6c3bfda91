"""``PANetTargets``: PANet's training targets, as MMOCR 0.6.3 draws them.

Reads the text polygons ``results['gt_masks']`` and the ``###`` polygons
``results['gt_masks_ignore']`` and replaces them by two dense maps of the image size (listed in
``seg_fields``, so later flips, rotations, crops and pads move them with the image):

* ``gt_kernels``: float32 ``(K, H, W)``, one map per shrink ratio (the first 1.0, the full
  text), each polygon shrunk by ``A (1 - r^2) / L`` pixels (at most ``max_shrink``) and filled
  with its *instance label* ``i + 1`` (i its index among the polygons) -- PANLoss's
  aggregation and discrimination losses tell the instances apart by it. A polygon that
  vanishes when shrunk is left out of that map.
* ``gt_mask``: uint8 ``(H, W)``, 0 on the ``###`` polygons, 1 elsewhere.

Areas are shapely's, perimeters OpenCV's and offsets pyclipper's (round joins), as MMOCR's.
"""
from __future__ import annotations

import sys
from typing import Any, Sequence

import cv2
import numpy as np
import pyclipper
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_targets import _finish, _take_polys, effective_mask
from ocr_ds.errors import UserError


def labelled_kernels(shape: tuple[int, int], polys: Sequence[np.ndarray], ratio: float,
                     max_shrink: float = sys.maxsize) -> np.ndarray:
    """MMOCR's ``generate_kernels``: each polygon shrunk by ``ratio`` and filled with its
    label ``i + 1`` (later polygons over earlier ones), float32 ``(H, W)``."""
    kernel = np.zeros(shape, dtype=np.float32)
    for i, poly in enumerate(polys):
        inst = np.asarray(poly).reshape(-1, 2).astype(np.int32)
        area = Polygon(inst).area if len(inst) >= 3 else 0.0
        peri = cv2.arcLength(inst, True)
        distance = min(int(area * (1 - ratio * ratio) / (peri + 0.001) + 0.5), max_shrink)
        pco = pyclipper.PyclipperOffset()
        pco.AddPath(inst.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
        paths = pco.Execute(-distance)
        if not paths or not len(paths[0]):
            continue
        shrunk = np.asarray(paths[0]).reshape(-1, 2).astype(np.int32)
        cv2.fillPoly(kernel, [shrunk], i + 1)
    return kernel


class PANetTargets:
    """Args:
        shrink_ratio: Kernel ratios, largest first; the first must be 1.0 (the text map).
            Defaults to (1.0, 0.5).
        max_shrink: Largest shrink offset in pixels. Defaults to 20.
    """

    def __init__(self, shrink_ratio: Sequence[float] = (1.0, 0.5), max_shrink: int = 20):
        if not (isinstance(shrink_ratio, (list, tuple)) and len(shrink_ratio) >= 2 and all(
                isinstance(r, (int, float)) and 0 < r <= 1 for r in shrink_ratio)):
            raise UserError(f"PANetTargets.shrink_ratio: expected at least 2 ratios in (0, 1], "
                            f"the text's 1.0 first (got {shrink_ratio!r})")
        self.shrink_ratio = tuple(float(r) for r in shrink_ratio)
        self.max_shrink = max_shrink

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        polys = _take_polys(results, "gt_masks")
        kernels = np.stack([labelled_kernels((h, w), polys, r, self.max_shrink)
                            for r in self.shrink_ratio])
        mask = effective_mask((h, w), _take_polys(results, "gt_masks_ignore"))
        return _finish(results, dict(gt_kernels=kernels, gt_mask=mask))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(shrink_ratio={self.shrink_ratio}, "
                f"max_shrink={self.max_shrink})")

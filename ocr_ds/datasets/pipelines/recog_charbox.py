"""Steps of MMOCR 0.6.3's SegOCR train pipeline that move character boxes with the image
(``RandomPaddingOCR``, ``RandomRotateImageBox``) and the PIL round trip around the rotation
(``OpencvToPil``, ``PilToOpencv``), from MMOCR's ``pipelines/ocr_transforms.py``.

Character boxes live in ``results['ann_info']`` (``OCRSegDataset``): ``'chars'`` and, per
character, ``'char_rects'`` (``[x1, y1, x2, y2]``) and ``'char_quads'`` (``[x1, y1, ..., x4,
y4]``); ``box_type`` names the one a step moves. Randomness is numpy's global RNG, drawn as
MMOCR draws it, so a seeded pipeline gives MMOCR's images and boxes.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import cv2
import numpy as np
from PIL import Image
from shapely.geometry import Polygon
from shapely.geometry import box as shapely_box

from ocr_ds.datasets.pipelines.torchvision_ops import _fill
from ocr_ds.errors import UserError

BOX_TYPES = ("char_rects", "char_quads")


def _box_type(value: Any, key: str, optional: bool = False) -> Any:
    if (optional and value is None) or value in BOX_TYPES:
        return value
    expected = "'char_rects' or 'char_quads'" + (" or None" if optional else "")
    raise UserError(f"{key}.box_type: expected {expected} (got {value!r})")


class RandomPaddingOCR:
    """Pad each side by a random share of the image size (edge pixels repeated) and shift the
    character boxes.

    Args:
        max_ratio: Largest padding ``[left, top, right, bottom]``, as shares of the width
            (left, right) and height (top, bottom). Defaults to ``[0.1, 0.2, 0.1, 0.2]``.
        box_type: The boxes to shift (``'char_rects'``/``'char_quads'``), or None. Defaults
            to None.
    """

    def __init__(self, max_ratio: Sequence[float] | None = None, box_type: str | None = None):
        if max_ratio is None:
            max_ratio = [0.1, 0.2, 0.1, 0.2]
        elif (not isinstance(max_ratio, (list, tuple)) or len(max_ratio) != 4
              or not all(isinstance(r, float) for r in max_ratio)):
            raise UserError(f"RandomPaddingOCR.max_ratio: expected a list of 4 floats "
                            f"[left, top, right, bottom] (got {max_ratio!r})")
        self.max_ratio = list(max_ratio)
        self.box_type = _box_type(box_type, "RandomPaddingOCR", optional=True)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img_shape"][:2]
        left, top, right, bottom = (
            round(np.random.uniform(0, ratio) * size)
            for ratio, size in zip(self.max_ratio, (w, h, w, h)))
        img = cv2.copyMakeBorder(results["img"], top, bottom, left, right, cv2.BORDER_REPLICATE)
        if results["img"].ndim == 3 and img.ndim == 2:
            img = img[:, :, None]
        results["img"] = img
        results["img_shape"] = img.shape
        if self.box_type is not None:
            for box in results["ann_info"][self.box_type]:
                for j in range(0, len(box) - 1, 2):
                    box[j] += left
                    box[j + 1] += top
        return results

    def __repr__(self) -> str:
        return type(self).__name__


class RandomRotateImageBox:
    """Rotate the (PIL) image about its centre by an angle uniform in ``[min_angle,
    max_angle]``, narrowed to the angle of the image's diagonal; rotate the character boxes
    and keep those whose rotated polygon is valid and lies at least 70 % inside the image.

    The image is rotated as MMOCR's call of ``torchvision``'s ``rotate`` (nearest neighbour,
    same size, black corners) did with the torchvision of its time; Pillow does the pixels.

    Args:
        min_angle, max_angle: Angle range in degrees. Defaults to -10 and 10.
        box_type: ``'char_rects'`` or ``'char_quads'``. Defaults to ``'char_quads'``.
    """

    def __init__(self, min_angle: float = -10, max_angle: float = 10,
                 box_type: str = "char_quads"):
        self.min_angle = min_angle
        self.max_angle = max_angle
        self.box_type = _box_type(box_type, "RandomRotateImageBox")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if not isinstance(img, Image.Image):
            raise UserError("RandomRotateImageBox: expected a PIL image; put OpencvToPil "
                            "before it (and PilToOpencv after it), as MMOCR's pipeline does")
        width, height = img.size
        center = [width / 2.0, height / 2.0]
        diagonal = np.arctan(center[1] / center[0]) * 180.0 / np.pi
        angle = np.random.uniform(max(self.min_angle, -diagonal),
                                  min(self.max_angle, diagonal))
        results["img"] = img.rotate(angle, Image.NEAREST, False, center,
                                    fillcolor=_fill(None, img, "RandomRotateImageBox"))
        boxes, chars = self.rotate_bbox(results["ann_info"][self.box_type],
                                        results["ann_info"]["chars"], angle * np.pi / 180.0,
                                        center, shapely_box(0, 0, width, height))
        results["ann_info"]["chars"] = chars
        results["ann_info"][self.box_type] = boxes
        return results

    @staticmethod
    def rotate_bbox(boxes: Sequence[Sequence[float]], chars: Sequence[str], angle: float,
                    center: Sequence[float], img_box: Any) -> tuple[list, list]:
        out_boxes, out_chars = [], []
        cos, sin = math.cos(-angle), math.sin(-angle)
        cx, cy = center
        for box, char in zip(boxes, chars):
            points = [[(box[2 * i] - cx) * cos - (box[2 * i + 1] - cy) * sin + cx,
                       (box[2 * i] - cx) * sin + (box[2 * i + 1] - cy) * cos + cy]
                      for i in range(len(box) // 2)]
            poly = Polygon(points).buffer(0)
            if not poly.is_valid or not img_box.intersects(poly) or img_box.touches(poly):
                continue
            if img_box.intersection(poly).area / poly.area >= 0.7:
                out_boxes.append([v for p in points for v in p])
                out_chars.append(char)
        return out_boxes, out_chars

    def __repr__(self) -> str:
        return type(self).__name__


class _Conversion:
    """A step without arguments (MMOCR's accept and ignore any)."""

    def __init__(self, **kwargs: Any):
        pass

    def __repr__(self) -> str:
        return type(self).__name__


class OpencvToPil(_Conversion):
    """BGR ``numpy`` image -> RGB PIL image."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        results["img"] = Image.fromarray(np.ascontiguousarray(results["img"][..., ::-1]))
        return results


class PilToOpencv(_Conversion):
    """RGB PIL image -> BGR ``numpy`` image."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        results["img"] = np.ascontiguousarray(np.asarray(results["img"])[..., ::-1])
        return results

"""Polygon-instance augmentations of MMOCR 0.6.3's FCENet / TextSnake (CTW1500) pipelines:
``RandomScaling``, ``RandomRotatePolyInstances``, ``SquareResizePad`` here, the crops
(``RandomCropFlip``, ``RandomCropPolyInstances``) in :mod:`.textdet_poly_crop`.

Each step draws from ``numpy.random`` in exactly MMOCR's order and computes as MMOCR does, so
the same input and the same numpy seed give MMOCR's image and polygons: polygons stay in the
dtype they were loaded in (float32) and are moved with Python scalars, which numpy applies in
that dtype as MMOCR's numpy did. What MMOCR's steps leave alone stays alone (the boxes in
``bbox_fields``); dense maps in ``seg_fields``, which MMOCR's pipelines never hold at these
steps, are moved with the image (nearest neighbour) so any order of steps stays consistent.

MMOCR's quirks are kept, on purpose, because its trained numbers come from them.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import cv2
import numpy as np

from ocr_ds.errors import bad_value


# --------------------------------------------------------------------------- helpers

def _polys(results: dict[str, Any], key: str) -> list[np.ndarray]:
    return list(results.get(key) or [])


def _masks_keys(results: dict[str, Any]) -> list[str]:
    """The polygon fields that hold polygons (MMOCR skips empty ones)."""
    return [k for k in results.get("mask_fields", []) if len(_polys(results, k))]


def _move_polys(results: dict[str, Any], fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """``fn`` on a copy of every flat polygon of every (non-empty) polygon field."""
    for key in _masks_keys(results):
        results[key] = [fn(np.array(p, copy=True)) for p in results[key]]


def _maps(results: dict[str, Any], fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """``fn`` on every ``(H, W)`` map (each map of a ``(K, H, W)`` stack) in ``seg_fields``."""
    for key in results.get("seg_fields", []):
        arr = results[key]
        results[key] = np.stack([fn(a) for a in arr]) if arr.ndim == 3 else fn(arr)


def _resize(img: np.ndarray, w: int, h: int, nearest: bool = False) -> np.ndarray:
    """``mmcv.imresize`` (bilinear, or nearest for maps)."""
    out = cv2.resize(np.ascontiguousarray(img), (w, h),
                     interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)
    return out[:, :, None] if img.ndim == 3 and out.ndim == 2 else out


def _resize_all(results: dict[str, Any], h: int, w: int, new_h: int, new_w: int) -> None:
    """PolygonMasks.resize of every polygon field, and the maps."""
    sx, sy = new_w / w, new_h / h

    def scale(p: np.ndarray) -> np.ndarray:
        p[0::2] = p[0::2] * sx
        p[1::2] = p[1::2] * sy
        return p
    _move_polys(results, scale)
    _maps(results, lambda a: _resize(a, new_w, new_h, nearest=True))


def _set_img(results: dict[str, Any], img: np.ndarray) -> None:
    results["img"] = img
    results["img_shape"] = img.shape


def _filler(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """MMOCR's background for padded areas: a random ninth of the image stretched over the
    whole output (two ``randint`` draws, row first)."""
    h, w = img.shape[:2]
    h_ind, w_ind = np.random.randint(0, h * 7 // 8), np.random.randint(0, w * 7 // 8)
    cut = img[h_ind:h_ind + h // 9, w_ind:w_ind + w // 9]
    return _resize(cut, out_w, out_h)


# --------------------------------------------------------------------------- steps

class RandomScaling:
    """Scale so the long side becomes ``size`` x a ratio uniform in ``scale``, keeping the
    aspect ratio (MMOCR's ``RandomScaling``).

    Args:
        size: The base long side. Defaults to 800.
        scale: ``(low, high)`` ratio range, or a float s for ``(1 - s, 1 + s)``.
            Defaults to (3/4, 5/2).
    """

    def __init__(self, size: int = 800, scale: Sequence[float] | float = (3. / 4, 5. / 2)):
        if not isinstance(size, int) or size < 1:
            raise bad_value("RandomScaling.size", size, "a positive integer")
        if isinstance(scale, (int, float)):
            scale = (1 - scale, 1 + scale)
        if not isinstance(scale, (list, tuple)) or len(scale) != 2:
            raise bad_value("RandomScaling.scale", scale, "a (low, high) pair or a float")
        self.size = size
        self.scale = (float(scale[0]), float(scale[1]))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img_shape"][:2]
        ratio = np.random.uniform(min(self.scale), max(self.scale))
        factor = self.size * 1.0 / max(h, w) * ratio
        new_h, new_w = int(h * factor), int(w * factor)
        _set_img(results, _resize(results["img"], new_w, new_h))
        _resize_all(results, h, w, new_h, new_w)
        return results


class RandomRotatePolyInstances:
    """With probability ``rotate_ratio``, rotate by an angle uniform in
    ``[-max_angle, max_angle]`` onto a canvas that holds the whole rotated image; the corners
    are filled with ``pad_value`` or (default) a stretched random patch of the image.

    Args:
        rotate_ratio: Probability of rotating. Defaults to 0.5.
        max_angle: Largest angle in degrees. Defaults to 10.
        pad_with_fixed_color: Fill with ``pad_value`` instead of an image patch.
            Defaults to False.
        pad_value: The fill colour. Defaults to (0, 0, 0).
    """

    def __init__(self, rotate_ratio: float = 0.5, max_angle: float = 10,
                 pad_with_fixed_color: bool = False, pad_value: Sequence[int] = (0, 0, 0)):
        self.rotate_ratio = rotate_ratio
        self.max_angle = max_angle
        self.pad_with_fixed_color = pad_with_fixed_color
        self.pad_value = tuple(pad_value)

    @staticmethod
    def rotate(center: tuple[float, float], points: np.ndarray, theta: float,
               center_shift: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Rotate flat ``points`` (in place) by ``theta`` degrees, counter-clockwise on screen,
        about ``center``, then shift by ``center_shift``."""
        center_x, center_y = center
        center_y = -center_y
        x, y = points[::2], -points[1::2]
        theta = theta / 180 * math.pi
        cos, sin = math.cos(theta), math.sin(theta)
        x = x - center_x
        y = y - center_y
        _x = center_x + x * cos - y * sin + center_shift[0]
        _y = -(center_y + x * sin + y * cos) + center_shift[1]
        points[::2], points[1::2] = _x, _y
        return points

    @staticmethod
    def cal_canvas_size(ori_size: tuple, degree: float) -> tuple[int, int]:
        angle = degree * math.pi / 180.0
        h, w = ori_size[:2]
        cos, sin = math.cos(angle), math.sin(angle)
        return (int(w * math.fabs(sin) + h * math.fabs(cos)),
                int(w * math.fabs(cos) + h * math.fabs(sin)))

    def rotate_img(self, img: np.ndarray, angle: float, canvas_size: tuple[int, int],
                   nearest: bool = False) -> np.ndarray:
        h, w = img.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1)
        matrix[0, 2] += int((canvas_size[1] - w) / 2)
        matrix[1, 2] += int((canvas_size[0] - h) / 2)
        size = (canvas_size[1], canvas_size[0])
        if nearest:      # a target map: no filler, nothing drawn from the RNG
            return cv2.warpAffine(img, matrix, size, flags=cv2.INTER_NEAREST, borderValue=0)
        if self.pad_with_fixed_color:
            return cv2.warpAffine(img, matrix, size, flags=cv2.INTER_NEAREST,
                                  borderValue=self.pad_value)
        cut = _filler(img, canvas_size[0], canvas_size[1])
        mask = cv2.warpAffine(np.zeros_like(img), matrix, size, borderValue=[1, 1, 1])
        return cv2.warpAffine(img, matrix, size, borderValue=[0, 0, 0]) + cut * mask

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.random_sample() < self.rotate_ratio:
            img = results["img"]
            h, w = img.shape[:2]
            angle = np.random.random_sample() * 2 * self.max_angle - self.max_angle
            canvas = self.cal_canvas_size((h, w), angle)
            shift = (int((canvas[1] - w) / 2), int((canvas[0] - h) / 2))
            results["rotated_poly_angle"] = angle
            _set_img(results, self.rotate_img(img, angle, canvas))
            _maps(results, lambda a: self.rotate_img(a, angle, canvas, nearest=True))
            _move_polys(results, lambda p: self.rotate((w / 2, h / 2), p, angle, shift))
        return results


class SquareResizePad:
    """Make the image ``target_size`` square: with probability ``pad_ratio`` resize the long
    side to it and pad the short side (centred) with a stretched random patch of the image
    (or ``pad_value``), otherwise stretch both sides to it.

    Args:
        target_size: The square's side.
        pad_ratio: Probability of keeping the aspect ratio. Defaults to 0.6.
        pad_with_fixed_color: Pad with ``pad_value``. Defaults to False.
        pad_value: The pad colour. Defaults to (0, 0, 0).
    """

    def __init__(self, target_size: int, pad_ratio: float = 0.6,
                 pad_with_fixed_color: bool = False, pad_value: Sequence[int] = (0, 0, 0)):
        if not isinstance(target_size, int) or target_size < 1:
            raise bad_value("SquareResizePad.target_size", target_size, "a positive integer")
        self.target_size = target_size
        self.pad_ratio = pad_ratio
        self.pad_with_fixed_color = pad_with_fixed_color
        self.pad_value = tuple(pad_value)

    def resize_img(self, img: np.ndarray, keep_ratio: bool = True
                   ) -> tuple[np.ndarray, tuple[int, int]]:
        h, w = img.shape[:2]
        t = self.target_size
        if keep_ratio:
            t_h = t if h >= w else int(h * t / w)
            t_w = t if h <= w else int(w * t / h)
        else:
            t_h = t_w = t
        return _resize(img, t_w, t_h), (t_h, t_w)

    def square_pad(self, img: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        h, w = img.shape[:2]
        if h == w:
            return img, (0, 0)
        size = max(h, w)
        if self.pad_with_fixed_color:
            # the image's dtype (MMOCR's canvas is uint8, which wraps a normalised image)
            expand = np.empty((size, size) + img.shape[2:], dtype=img.dtype)
            expand[:] = self.pad_value
        else:
            expand = _filler(img, size, size)
        y0, x0 = (0, (h - w) // 2) if h > w else ((w - h) // 2, 0)
        expand[y0:y0 + h, x0:x0 + w] = img
        return expand, (x0, y0)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        h, w = img.shape[:2]
        if np.random.random_sample() < self.pad_ratio:
            img, (t_h, t_w) = self.resize_img(img, keep_ratio=True)
            img, (x0, y0) = self.square_pad(img)
        else:
            img, (t_h, t_w) = self.resize_img(img, keep_ratio=False)
            x0 = y0 = 0
        _set_img(results, img)
        _resize_all(results, h, w, t_h, t_w)
        side = img.shape[0]

        def pad_map(a: np.ndarray) -> np.ndarray:
            out = np.zeros((side, side), dtype=a.dtype)
            out[y0:y0 + a.shape[0], x0:x0 + a.shape[1]] = a
            return out

        def shift(p: np.ndarray) -> np.ndarray:
            p[::2] = p[::2] + x0
            p[1::2] = p[1::2] + y0
            return p
        _maps(results, pad_map)
        _move_polys(results, shift)
        return results

"""Geometric steps of the detection pipelines: resize, flip, rotate, pad.

Every step moves together, in one call: the image(s) in ``img_fields``; the polygon lists in
``mask_fields`` (flat ``[x1, y1, ...]`` arrays); the ``(N, 4)`` boxes in ``bbox_fields``; and
the dense target maps in ``seg_fields`` (``(H, W)`` or ``(K, H, W)``, nearest-neighbour, padded
with 0). Randomness comes from ``numpy.random`` (seeded per data worker by the engine), as in
mmdet/MMOCR. The helpers here also serve ``ImgAug`` (:mod:`.textdet_imgaug`) and the crops.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.errors import UserError


# --------------------------------------------------------------------------- helpers

def _img_keys(results: dict[str, Any]) -> list[str]:
    return list(results.get("img_fields", ["img"]))


def _cv_img(arr: np.ndarray, fn: Any) -> np.ndarray:
    """Apply a cv2 function to an ``(H, W)`` or ``(H, W, C)`` image, keeping its rank."""
    out = fn(np.ascontiguousarray(arr))
    return out[:, :, None] if arr.ndim == 3 and out.ndim == 2 else out


def _cv_map(arr: np.ndarray, fn: Any) -> np.ndarray:
    """Apply a cv2 function to an ``(H, W)`` map or each map of a ``(K, H, W)`` stack."""
    if arr.ndim == 3 and len(arr) == 0:
        # an empty stack (an image without instances): its new size from one blank map
        return np.zeros((0,) + fn(np.zeros(arr.shape[1:], arr.dtype)).shape, arr.dtype)
    if arr.ndim == 3:
        return np.stack([fn(np.ascontiguousarray(a)) for a in arr])
    return fn(np.ascontiguousarray(arr))


def map_points(results: dict[str, Any], fn: Any) -> None:
    """Apply ``fn((n, 2) xy) -> (n, 2) xy`` to every polygon and box."""
    for key in results.get("mask_fields", []):
        # computed in float64, stored back in the polygon's own dtype (float32 as loaded,
        # which is what MMOCR's PolygonMasks keep)
        results[key] = [fn(np.asarray(p, np.float64).reshape(-1, 2)).reshape(-1).astype(
            np.asarray(p).dtype if np.asarray(p).dtype.kind == "f" else np.float64)
            for p in results[key]]
    for key in results.get("bbox_fields", []):
        boxes = np.asarray(results[key], np.float64).reshape(-1, 4)
        out = []
        for x1, y1, x2, y2 in boxes:
            pts = fn(np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], np.float64))
            out.append([*pts.min(axis=0), *pts.max(axis=0)])
        results[key] = np.asarray(out, np.float32).reshape(-1, 4)


def set_img_shape(results: dict[str, Any]) -> None:
    results["img_shape"] = results["img"].shape


def resize_results(results: dict[str, Any], new_w: int, new_h: int) -> tuple[float, float]:
    """Resize everything to ``(new_w, new_h)``; returns ``(w_scale, h_scale)``."""
    h, w = results["img"].shape[:2]
    new_w, new_h = max(1, int(new_w)), max(1, int(new_h))
    sx, sy = new_w / w, new_h / h
    for key in _img_keys(results):
        results[key] = _cv_img(results[key], lambda a: cv2.resize(
            a, (new_w, new_h), interpolation=cv2.INTER_LINEAR))
    for key in results.get("seg_fields", []):
        results[key] = _cv_map(results[key], lambda a: cv2.resize(
            a, (new_w, new_h), interpolation=cv2.INTER_NEAREST))
    map_points(results, lambda p: p * (sx, sy))
    set_img_shape(results)
    return sx, sy


def clip_boxes(results: dict[str, Any]) -> None:
    """Boxes clipped to the image, as mmdet's ``Resize`` does after scaling
    (``bbox_clip_border``): a box annotated past the border ends at it."""
    h, w = results["img"].shape[:2]
    for key in results.get("bbox_fields", []):
        boxes = np.asarray(results[key], np.float32).reshape(-1, 4).copy()
        boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, w)
        boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, h)
        results[key] = boxes


def warp_results(results: dict[str, Any], matrix: np.ndarray, out_w: int, out_h: int,
                 img_interp: int = cv2.INTER_LINEAR) -> None:
    """Apply the 2x3 affine ``matrix`` to everything; output size ``(out_w, out_h)``."""
    for key in _img_keys(results):
        results[key] = _cv_img(results[key], lambda a: cv2.warpAffine(
            a, matrix, (out_w, out_h), flags=img_interp, borderValue=0))
    for key in results.get("seg_fields", []):
        results[key] = _cv_map(results[key], lambda a: cv2.warpAffine(
            a, matrix, (out_w, out_h), flags=cv2.INTER_NEAREST, borderValue=0))
    map_points(results, lambda p: p @ matrix[:, :2].T + matrix[:, 2])
    set_img_shape(results)


def flip_results(results: dict[str, Any], direction: str) -> None:
    """Mirror everything; pixel i goes to W-1-i, coordinate x to W-x (mmdet's convention)."""
    h, w = results["img"].shape[:2]
    axis = {"horizontal": 1, "vertical": 0}[direction]
    for key in _img_keys(results):
        results[key] = np.ascontiguousarray(np.flip(results[key], axis=axis))
    for key in results.get("seg_fields", []):
        arr = results[key]
        results[key] = np.ascontiguousarray(np.flip(arr, axis=axis + arr.ndim - 2))
    if direction == "horizontal":
        map_points(results, lambda p: np.stack([w - p[:, 0], p[:, 1]], axis=1))
    else:
        map_points(results, lambda p: np.stack([p[:, 0], h - p[:, 1]], axis=1))


def rotation_matrix(w: int, h: int, angle: float, scale: float = 1.0) -> np.ndarray:
    """Rotation by ``angle`` degrees (counter-clockwise on screen) about the image centre."""
    return cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)


def scale_list(value: Any) -> list[Any]:
    """One ``(w, h)`` scale or a list of them -> a list of scales. A bare two-number list is one
    scale: configs that went through JSON (checkpoint metadata) carry tuples as lists."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) for v in value):
        return [tuple(value)]
    return list(value) if isinstance(value, list) else [value]


def value_range(value: Any, key: str, symmetric: bool = False) -> tuple[float, float]:
    if isinstance(value, (int, float)):
        v = float(value)
        return (-abs(v), abs(v)) if symmetric else (v, v)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return float(value[0]), float(value[1])
    raise UserError(f"{key}: expected a number or a [low, high] pair (got {value!r})")


# --------------------------------------------------------------------------- steps

class Resize:
    """mmdet's ``Resize``: to ``results['scale']`` (set by ``MultiScaleFlipAug``) or a scale
    drawn from ``img_scale``; ``keep_ratio`` fits the long/short sides inside the scale.

    Args:
        img_scale: ``(long, short)`` or a list of them. Defaults to None (use
            ``results['scale']``).
        multiscale_mode: 'value' (pick one of the list) or 'range' (sample between two).
        ratio_range: Multiply the (single) scale by a ratio drawn from this range.
        keep_ratio: Keep the aspect ratio. Defaults to True.
    """

    def __init__(self, img_scale: Any = None, multiscale_mode: str = "range",
                 ratio_range: Sequence[float] | None = None, keep_ratio: bool = True,
                 bbox_clip_border: bool = True, backend: str = "cv2", override: bool = False):
        if img_scale is None:
            self.img_scale = None
        else:
            scales = scale_list(img_scale)
            if not all(isinstance(s, (list, tuple)) and len(s) == 2 for s in scales):
                raise UserError(f"Resize.img_scale: expected (w, h) pairs (got {img_scale!r})")
            self.img_scale = [tuple(int(v) for v in s) for s in scales]
        if multiscale_mode not in ("value", "range"):
            raise UserError(f"Resize.multiscale_mode: expected 'value' or 'range' "
                            f"(got {multiscale_mode!r})")
        self.multiscale_mode = multiscale_mode
        self.ratio_range = ratio_range
        self.keep_ratio = keep_ratio

    def _scale(self, results: dict[str, Any]) -> tuple[int, int]:
        if "scale" in results:
            return results["scale"]
        if self.img_scale is None:
            raise UserError("Resize: no img_scale, and no MultiScaleFlipAug around it to give "
                            "one")
        if self.ratio_range is not None:
            lo, hi = value_range(self.ratio_range, "Resize.ratio_range")
            r = np.random.uniform(lo, hi)
            base = self.img_scale[0]
            return int(base[0] * r), int(base[1] * r)
        if len(self.img_scale) == 1:
            return self.img_scale[0]
        if self.multiscale_mode == "value":
            return self.img_scale[np.random.randint(len(self.img_scale))]
        longs = [max(s) for s in self.img_scale]
        shorts = [min(s) for s in self.img_scale]
        return (np.random.randint(min(longs), max(longs) + 1),
                np.random.randint(min(shorts), max(shorts) + 1))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        scale = self._scale(results)
        h, w = results["img"].shape[:2]
        if self.keep_ratio:
            long_edge, short_edge = max(scale), min(scale)
            factor = min(long_edge / max(h, w), short_edge / min(h, w))
            new_w, new_h = int(w * factor + 0.5), int(h * factor + 0.5)
        else:
            new_w, new_h = int(scale[0]), int(scale[1])
        sx, sy = resize_results(results, new_w, new_h)
        results["scale"] = tuple(scale)
        results["scale_factor"] = np.array([sx, sy, sx, sy], dtype=np.float32)
        results["keep_ratio"] = self.keep_ratio
        results["pad_shape"] = results["img"].shape     # mmdet's: a later Pad sets its own
        clip_boxes(results)
        return results


class ScaleAspectJitter:
    """MMOCR's random rescale for PSENet/PANet training (``keep_ratio=False`` only).

    ``resize_type='long_short_bound'``: shrink so the long side is at most ``long_size_bound``,
    times a ratio from ``ratio_range``, but keep the short side above ``short_size_bound``;
    ``'around_min_img_scale'``: short side = ratio x ``min(img_scale[0])``;
    ``'indep_sample_in_range'``: width and height drawn from ``scale_range``. The aspect ratio
    then changes by a factor from ``aspect_ratio_range``.
    """

    def __init__(self, img_scale: Any = None, multiscale_mode: str = "range",
                 ratio_range: Sequence[float] | None = None, keep_ratio: bool = False,
                 resize_type: str = "around_min_img_scale",
                 aspect_ratio_range: Sequence[float] | None = None,
                 long_size_bound: int | None = None, short_size_bound: int | None = None,
                 scale_range: Sequence[int] | None = None):
        types = ("long_short_bound", "around_min_img_scale", "indep_sample_in_range")
        if resize_type not in types:
            raise UserError(f"ScaleAspectJitter.resize_type: expected one of {types} "
                            f"(got {resize_type!r})")
        if keep_ratio:
            raise UserError("ScaleAspectJitter.keep_ratio: expected False (got True)")
        self.img_scale = None if img_scale is None else scale_list(img_scale)
        self.ratio_range = ratio_range
        self.resize_type = resize_type
        self.aspect_ratio_range = aspect_ratio_range
        self.long_size_bound = long_size_bound
        self.short_size_bound = short_size_bound
        self.scale_range = scale_range

    @staticmethod
    def sample_from_range(value: Sequence[float] | None) -> float:
        if value is None:
            return 1.0
        lo, hi = min(value), max(value)
        return float(np.random.random_sample() * (hi - lo) + lo)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        if self.resize_type == "indep_sample_in_range":
            new_w = int(self.sample_from_range(self.scale_range))
            new_h = int(self.sample_from_range(self.scale_range))
        else:
            if self.resize_type == "long_short_bound":
                scale = 1.0
                if self.long_size_bound is not None and max(h, w) > self.long_size_bound:
                    scale = self.long_size_bound / max(h, w)
                scale *= self.sample_from_range(self.ratio_range)
                if self.short_size_bound is not None and \
                        min(h, w) * scale <= self.short_size_bound:
                    scale = (self.short_size_bound + 10) / min(h, w)
            else:
                if not self.img_scale:
                    raise UserError("ScaleAspectJitter.img_scale: required for "
                                    "resize_type='around_min_img_scale'")
                scale = self.sample_from_range(self.ratio_range) * min(self.img_scale[0]) \
                    / min(h, w)
            aspect = self.sample_from_range(self.aspect_ratio_range)
            new_w = int(w * scale / math.sqrt(aspect))
            new_h = int(h * scale * math.sqrt(aspect))
        sx, sy = resize_results(results, new_w, new_h)
        results["scale_factor"] = np.array([sx, sy, sx, sy], dtype=np.float32)
        results["pad_shape"] = results["img"].shape     # as mmdet's Resize, its base class
        clip_boxes(results)
        return results


class RandomFlip:
    """mmdet's ``RandomFlip``: mirror with probability ``flip_ratio``.

    Args:
        flip_ratio: Probability. Defaults to None (never).
        direction: 'horizontal' or 'vertical'. Defaults to 'horizontal'.
    """

    def __init__(self, flip_ratio: float | None = None, direction: str = "horizontal"):
        if direction not in ("horizontal", "vertical"):
            raise UserError(f"RandomFlip.direction: expected 'horizontal' or 'vertical' "
                            f"(got {direction!r})")
        self.flip_ratio = flip_ratio or 0.0
        self.direction = direction

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        flip = bool(np.random.rand() < self.flip_ratio)
        results["flip"] = flip
        results["flip_direction"] = self.direction if flip else None
        if flip:
            flip_results(results, self.direction)
        return results


class RandomRotateTextDet:
    """MMOCR 0.x's rotation: with probability ``rotate_ratio`` rotate by an angle uniform in
    ``[-max_angle, max_angle]`` about the centre, keeping the size (corners cut, 0 filled;
    nearest-neighbour, as MMOCR)."""

    def __init__(self, rotate_ratio: float = 1.0, max_angle: float = 10):
        self.rotate_ratio = rotate_ratio
        self.max_angle = max_angle

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.random_sample() < self.rotate_ratio:
            angle = np.random.random_sample() * 2 * self.max_angle - self.max_angle
            h, w = results["img"].shape[:2]
            warp_results(results, rotation_matrix(w, h, angle), w, h, cv2.INTER_NEAREST)
        return results


class Pad:
    """mmdet's ``Pad``: zero-pad the bottom/right to ``size`` or a multiple of ``size_divisor``.

    Target maps are padded with 0 (outside the image counts as background). Sets
    ``pad_shape``, ``pad_fixed_size``, ``pad_size_divisor``.
    """

    def __init__(self, size: Sequence[int] | None = None, size_divisor: int | None = None,
                 pad_to_square: bool = False, pad_val: float | dict = 0):
        if (size is None) == (size_divisor is None) and not pad_to_square:
            raise UserError("Pad: expected exactly one of size, size_divisor "
                            f"(got size={size!r}, size_divisor={size_divisor!r})")
        self.size = size
        self.size_divisor = size_divisor
        self.pad_to_square = pad_to_square
        # mmdet >= 2.22 spells it dict(img=0, masks=0, seg=255); target maps always get 0
        self.pad_val = pad_val.get("img", 0) if isinstance(pad_val, dict) else pad_val

    def _target(self, h: int, w: int) -> tuple[int, int]:
        if self.pad_to_square:
            h = w = max(h, w)
        if self.size is not None:
            return max(h, int(self.size[0])), max(w, int(self.size[1]))
        if self.size_divisor:
            d = int(self.size_divisor)
            return int(math.ceil(h / d) * d), int(math.ceil(w / d) * d)
        return h, w

    @staticmethod
    def _pad(arr: np.ndarray, th: int, tw: int, value: float, stack: bool) -> np.ndarray:
        h, w = (arr.shape[1:3] if stack else arr.shape[:2])
        if (h, w) == (th, tw):
            return arr
        if stack:
            pad = [(0, 0), (0, th - h), (0, tw - w)]
        else:
            pad = [(0, th - h), (0, tw - w)] + [(0, 0)] * (arr.ndim - 2)
        return np.pad(arr, pad, constant_values=value)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        th, tw = self._target(h, w)
        for key in _img_keys(results):
            results[key] = self._pad(results[key], th, tw, self.pad_val, False)
        for key in results.get("seg_fields", []):
            arr = results[key]
            results[key] = self._pad(arr, th, tw, 0, arr.ndim == 3)
        results["pad_shape"] = results["img"].shape
        results["pad_fixed_size"] = self.size
        results["pad_size_divisor"] = self.size_divisor
        return results

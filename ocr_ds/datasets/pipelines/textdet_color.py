"""``ColorJitter``: torchvision's colour jitter, written with numpy/OpenCV on the BGR array.

MMOCR wraps torchvision's transform (through PIL); this is the same arithmetic without either:
each of brightness, contrast, saturation and hue is applied with a factor drawn uniformly
(``[max(0, 1 - x), 1 + x]``, hue ``[-x, x]`` of a full turn), in a random order, clipping to
``[0, 255]`` after each.
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.errors import UserError


def _factor_range(value: float | Sequence[float], name: str, center: float = 1.0,
                  bound: tuple[float, float] = (0, float("inf"))) -> tuple[float, float] | None:
    if isinstance(value, (int, float)):
        if value < 0:
            raise UserError(f"ColorJitter.{name}: expected a non-negative value (got {value!r})")
        lo, hi = center - value, center + value
        if center == 1.0:
            lo = max(lo, 0.0)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        lo, hi = float(value[0]), float(value[1])
    else:
        raise UserError(f"ColorJitter.{name}: expected a number or [low, high] (got {value!r})")
    if not bound[0] <= lo <= hi <= bound[1]:
        raise UserError(f"ColorJitter.{name}: expected {bound[0]} <= low <= high <= {bound[1]} "
                        f"(got {value!r})")
    return None if lo == hi == center else (lo, hi)


def _gray(img: np.ndarray) -> np.ndarray:
    # ITU-R 601-2 luma on BGR, as PIL's convert('L')
    return img[..., 2] * 0.299 + img[..., 1] * 0.587 + img[..., 0] * 0.114


class ColorJitter:
    """Random brightness, contrast, saturation and hue of a BGR ``uint8`` image.

    Args:
        brightness, contrast, saturation: Jitter amounts (or ``[low, high]`` factors).
            Default 0 (off).
        hue: Hue shift amount in ``[0, 0.5]`` of a full turn. Defaults to 0.
    """

    def __init__(self, brightness: float = 0, contrast: float = 0, saturation: float = 0,
                 hue: float = 0):
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _factor_range(hue, "hue", center=0.0, bound=(-0.5, 0.5))

    def _apply(self, img: np.ndarray) -> np.ndarray:
        ops = np.random.permutation(4)
        for op in ops:
            if op == 0 and self.brightness:
                img = np.clip(img * np.random.uniform(*self.brightness), 0, 255)
            elif op == 1 and self.contrast:
                mean = _gray(img).mean()
                f = np.random.uniform(*self.contrast)
                img = np.clip(img * f + mean * (1 - f), 0, 255)
            elif op == 2 and self.saturation:
                f = np.random.uniform(*self.saturation)
                img = np.clip(img * f + _gray(img)[..., None] * (1 - f), 0, 255)
            elif op == 3 and self.hue:
                shift = np.random.uniform(*self.hue)
                hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
                hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(round(shift * 255))) % 256
                img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(np.float32)
        return img

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.ndim != 3 or img.shape[2] != 3:
            return results  # colour jitter of a grey image: only brightness/contrast matter
        out = self._apply(img.astype(np.float32))
        results["img"] = np.round(out).astype(np.uint8) if img.dtype == np.uint8 \
            else out.astype(img.dtype)
        return results

"""The torchvision transforms MMOCR's ABINet pipeline names through ``TorchVisionWrapper``,
without torchvision (its wheels do not install beside our CPU torch).

MMOCR's wrapper turns the BGR array into an RGB PIL image, runs ``torchvision.transforms.<op>``
on it and back. These classes do what torchvision 0.28 does on PIL images, step for step:

* the random parameters come from torch's global RNG, drawn in torchvision's order and way
  (``torch.empty(1).uniform_``, ``torch.randint``, ``torch.randperm``, ``torch.rand``), so a
  seeded torch gives MMOCR's parameters;
* the pixels are computed by Pillow, with the matrices / coefficients torchvision hands it
  (``Image.transform`` AFFINE / PERSPECTIVE, ``ImageEnhance``, the HSV hue shift),

so the images are MMOCR's bit for bit (the parity tests check it). Supported: ``RandomAffine``,
``RandomPerspective`` and ``ColorJitter`` with torchvision's arguments (``interpolation`` as a
Pillow constant or a name: 'nearest', 'bilinear', 'bicubic').
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image, ImageEnhance

from ocr_ds.errors import UserError

_MODES = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
          "box": Image.BOX, "hamming": Image.HAMMING, "lanczos": Image.LANCZOS}


def _interpolation(value: Any, default: int, key: str) -> int:
    if value is None:
        return default
    if isinstance(value, str) and value.lower() in _MODES:
        return _MODES[value.lower()]
    if isinstance(value, int) and not isinstance(value, bool) and value in _MODES.values():
        return value
    raise UserError(f"{key}.interpolation: expected one of {sorted(_MODES)} or a Pillow "
                    f"constant (got {value!r})")


def _fill(fill: Any, img: Image.Image, key: str) -> Any:
    """torchvision's ``_parse_fill``: one int per band."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and bands > 1:
        fill = tuple([fill] * bands)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * bands
        elif len(fill) != bands:
            raise UserError(f"{key}.fill: expected 1 or {bands} values (got {fill!r})")
        return tuple(int(x) for x in fill)
    return int(fill)


def _pair(value: Any, key: str, sizes: Sequence[int] = (2,), symmetric: bool = False
          ) -> list[float]:
    if symmetric and isinstance(value, numbers.Number):
        if value < 0:
            raise UserError(f"{key}: expected a non-negative number (got {value!r})")
        return [-float(value), float(value)]
    if not isinstance(value, (list, tuple)) or len(value) not in sizes:
        raise UserError(f"{key}: expected a sequence of {' or '.join(map(str, sizes))} numbers "
                        f"(got {value!r})")
    return [float(v) for v in value]


def _uniform(low: float, high: float) -> float:
    return float(torch.empty(1).uniform_(low, high).item())


class RandomAffine:
    """torchvision's ``RandomAffine`` on a PIL image (parameters as torchvision's)."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = None, fill: Any = 0, center: Sequence[float] | None = None,
                 key: str = "TorchVisionWrapper"):
        self.key = key
        self.degrees = _pair(degrees, f"{key}.degrees", symmetric=True)
        if translate is not None:
            translate = _pair(translate, f"{key}.translate")
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise UserError(f"{key}.translate: expected values in [0, 1] (got {translate!r})")
        self.translate = translate
        if scale is not None:
            scale = _pair(scale, f"{key}.scale")
            if not all(s > 0 for s in scale):
                raise UserError(f"{key}.scale: expected positive values (got {scale!r})")
        self.scale = scale
        self.shear = None if shear is None else _pair(shear, f"{key}.shear", (2, 4), True)
        self.interpolation = _interpolation(interpolation, Image.NEAREST, key)
        self.fill = fill
        self.center = None if center is None else _pair(center, f"{key}.center")

    def get_params(self, width: int, height: int) -> tuple:
        angle = _uniform(self.degrees[0], self.degrees[1])
        if self.translate is not None:
            max_dx, max_dy = float(self.translate[0] * width), float(self.translate[1] * height)
            translations = (int(round(_uniform(-max_dx, max_dx))),
                            int(round(_uniform(-max_dy, max_dy))))
        else:
            translations = (0, 0)
        scale = 1.0 if self.scale is None else _uniform(self.scale[0], self.scale[1])
        shear_x = shear_y = 0.0
        if self.shear is not None:
            shear_x = _uniform(self.shear[0], self.shear[1])
            if len(self.shear) == 4:
                shear_y = _uniform(self.shear[2], self.shear[3])
        return angle, translations, scale, (shear_x, shear_y)

    def __call__(self, img: Image.Image) -> Image.Image:
        width, height = img.size
        angle, translate, scale, shear = self.get_params(width, height)
        center = self.center or [width * 0.5, height * 0.5]
        matrix = inverse_affine_matrix(center, angle, translate, scale, shear)
        return img.transform(img.size, Image.AFFINE, matrix, self.interpolation,
                             fillcolor=_fill(self.fill, img, self.key))


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float],
                          scale: float, shear: Sequence[float]) -> list[float]:
    """torchvision's ``_get_inverse_affine_matrix`` (the output -> input map Pillow takes):
    ``M = T * C * R(angle) * S(scale) * SHy * SHx * C^-1``, inverted."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


class RandomPerspective:
    """torchvision's ``RandomPerspective`` on a PIL image."""

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5, interpolation: Any = None,
                 fill: Any = 0, key: str = "TorchVisionWrapper"):
        if not isinstance(distortion_scale, (int, float)) or not 0 <= distortion_scale <= 1:
            raise UserError(f"{key}.distortion_scale: expected a number in [0, 1] "
                            f"(got {distortion_scale!r})")
        self.key = key
        self.distortion_scale = distortion_scale
        self.p = p
        self.interpolation = _interpolation(interpolation, Image.BILINEAR, key)
        self.fill = fill

    def get_params(self, width: int, height: int) -> tuple[list, list]:
        dx = int(self.distortion_scale * (width // 2))
        dy = int(self.distortion_scale * (height // 2))

        def draw(low: int, high: int) -> int:
            return int(torch.randint(low, high, size=(1,)).item())
        topleft = [draw(0, dx + 1), draw(0, dy + 1)]
        topright = [draw(width - dx - 1, width), draw(0, dy + 1)]
        botright = [draw(width - dx - 1, width), draw(height - dy - 1, height)]
        botleft = [draw(0, dx + 1), draw(height - dy - 1, height)]
        start = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return start, [topleft, topright, botright, botleft]

    def __call__(self, img: Image.Image) -> Image.Image:
        if torch.rand(1) < self.p:
            start, end = self.get_params(*img.size)
            return img.transform(img.size, Image.PERSPECTIVE, perspective_coeffs(start, end),
                                 self.interpolation, fillcolor=_fill(self.fill, img, self.key))
        return img


def perspective_coeffs(startpoints: list, endpoints: list) -> list[float]:
    """torchvision's ``_get_perspective_coeffs``: the 8 coefficients mapping output points to
    input points, least squares in float64 (LAPACK's gels), rounded to float32."""
    a = torch.zeros(8, 8, dtype=torch.float64)
    for i, (p1, p2) in enumerate(zip(endpoints, startpoints)):
        a[2 * i, :] = torch.tensor([p1[0], p1[1], 1, 0, 0, 0, -p2[0] * p1[0], -p2[0] * p1[1]])
        a[2 * i + 1, :] = torch.tensor([0, 0, 0, p1[0], p1[1], 1, -p2[1] * p1[0],
                                        -p2[1] * p1[1]])
    b = torch.tensor(startpoints, dtype=torch.float64).view(8)
    return torch.linalg.lstsq(a, b, driver="gels").solution.to(torch.float32).tolist()


class ColorJitter:
    """torchvision's ``ColorJitter`` on a PIL image: brightness, contrast, saturation and hue
    factors drawn uniformly, applied in a random order."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0, key: str = "TorchVisionWrapper"):
        self.brightness = self._check(brightness, f"{key}.brightness")
        self.contrast = self._check(contrast, f"{key}.contrast")
        self.saturation = self._check(saturation, f"{key}.saturation")
        self.hue = self._check(hue, f"{key}.hue", center=0, bound=(-0.5, 0.5), clip=False)

    @staticmethod
    def _check(value: Any, key: str, center: float = 1, bound: tuple = (0, float("inf")),
               clip: bool = True) -> tuple[float, float] | None:
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            if value < 0:
                raise UserError(f"{key}: expected a non-negative number (got {value!r})")
            lo, hi = center - float(value), center + float(value)
            if clip:
                lo = max(lo, 0.0)
        elif isinstance(value, (list, tuple)) and len(value) == 2:
            lo, hi = float(value[0]), float(value[1])
        else:
            raise UserError(f"{key}: expected a number or [low, high] (got {value!r})")
        if not bound[0] <= lo <= hi <= bound[1]:
            raise UserError(f"{key}: expected {bound[0]} <= low <= high <= {bound[1]} "
                            f"(got {value!r})")
        return None if lo == hi == center else (lo, hi)

    def __call__(self, img: Image.Image) -> Image.Image:
        order = torch.randperm(4)
        factors = [None if r is None else float(torch.empty(1).uniform_(r[0], r[1]))
                   for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        for fn in order.tolist():
            f = factors[fn]
            if f is None:
                continue
            if fn == 0:
                img = ImageEnhance.Brightness(img).enhance(f)
            elif fn == 1:
                img = ImageEnhance.Contrast(img).enhance(f)
            elif fn == 2:
                img = ImageEnhance.Color(img).enhance(f)
            else:
                img = adjust_hue(img, f)
        return img


def adjust_hue(img: Image.Image, hue_factor: float) -> Image.Image:
    """torchvision's PIL hue shift: ``hue_factor * 255`` added (mod 256) to the HSV hue."""
    if img.mode in {"L", "1", "I", "F"}:
        return img
    mode = img.mode
    h, s, v = img.convert("HSV").split()
    np_h = np.array(h, dtype=np.uint8)
    np_h += np.int32(hue_factor * 255).astype(np.uint8)     # wraps around, as intended
    return Image.merge("HSV", (Image.fromarray(np_h), s, v)).convert(mode)


OPS = {"RandomAffine": RandomAffine, "RandomPerspective": RandomPerspective,
       "ColorJitter": ColorJitter}

"""``ColorJitter`` and ``AffineJitter``: MMOCR 0.6.3's pipeline steps that run torchvision's
colour jitter / random affine transform on the BGR array.

MMOCR's step flips the BGR array to RGB, runs ``torchvision.transforms.ColorJitter`` on it as a
PIL image and flips the result back. This does the same through
:class:`ocr_ds.datasets.pipelines.torchvision_ops.ColorJitter` (torchvision's transform re-done
without torchvision: the factors drawn from torch's RNG in torchvision's order, the pixels from
Pillow), so a seeded torch gives MMOCR's image bit for bit. A grey image (``H x W``) is
jittered as Pillow's 'L' image, as in MMOCR (hue and saturation leave it unchanged); an
``H x W x 1`` one as its plane (MMOCR stops there).

``AffineJitter`` passes ``RandomAffine`` the ``resample``/``fillcolor`` arguments of the
torchvision of its time (0.8-0.12, which read ``resample=False`` as nearest neighbour), which
current torchvision no longer takes (MMOCR 0.6.3 cannot build the step with it): here they are
read as those releases read them, through
:class:`ocr_ds.datasets.pipelines.torchvision_ops.RandomAffine`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ocr_ds.datasets.pipelines.torchvision_ops import ColorJitter as _TorchVisionColorJitter
from ocr_ds.datasets.pipelines.torchvision_ops import RandomAffine
from ocr_ds.errors import UserError


class ColorJitter:
    """Random brightness, contrast, saturation and hue of a BGR (or grey) ``uint8`` image.

    Args:
        brightness, contrast, saturation: Jitter amounts (or ``[low, high]`` factors).
            Default 0 (off).
        hue: Hue shift amount in ``[0, 0.5]`` of a full turn. Defaults to 0.
    """

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0):
        self.transform = _TorchVisionColorJitter(brightness, contrast, saturation, hue,
                                                 key="ColorJitter")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.dtype != np.uint8:
            name = type(self).__name__
            raise UserError(f"{name}: expected a uint8 image, as the image loader gives "
                            f"(got {img.dtype}); put {name} before Normalize")
        if img.ndim == 3 and img.shape[2] == 1:
            out = np.asarray(self.transform(Image.fromarray(img[..., 0])))[..., None]
        elif img.ndim == 2:
            out = np.asarray(self.transform(Image.fromarray(img)))
        else:   # BGR -> RGB for Pillow and back, as MMOCR
            out = np.asarray(self.transform(Image.fromarray(img[..., ::-1])))[..., ::-1]
        results["img"] = np.array(out, order="C")   # writable (Pillow's arrays are not)
        return results


class AffineJitter:
    """A random affine transform of the image (not of its boxes or masks), as MMOCR's step.

    Args:
        degrees: Rotation range, ``d`` for ``[-d, d]`` or ``[low, high]``. Defaults to 4.
        translate: Largest horizontal and vertical shift, as fractions of the width and
            height. Defaults to ``(0.02, 0.04)``.
        scale: Scale range. Defaults to ``(0.9, 1.1)``.
        shear: Shear range (as torchvision's), or None. Defaults to None.
        resample: Pillow's resampling filter; ``False`` (the default) is nearest neighbour.
        fillcolor: Value of the area outside the image. Defaults to 0.
    """

    def __init__(self, degrees: Any = 4, translate: Any = (0.02, 0.04), scale: Any = (0.9, 1.1),
                 shear: Any = None, resample: Any = False, fillcolor: Any = 0):
        interpolation = None if resample is False else resample   # torchvision 0.8-0.12
        self.transform = RandomAffine(degrees, translate, scale, shear, interpolation,
                                      fillcolor, key="AffineJitter")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if img.dtype != np.uint8:
            raise UserError(f"AffineJitter: expected a uint8 image, as the image loader gives "
                            f"(got {img.dtype}); put AffineJitter before Normalize")
        plane = img[..., 0] if img.ndim == 3 and img.shape[2] == 1 else img
        # MMOCR's [..., ::-1] both ways: BGR <-> RGB, and on a grey image a left-right flip
        # around the transform (which mirrors its random shift and rotation)
        out = np.asarray(self.transform(Image.fromarray(plane[..., ::-1])))[..., ::-1]
        results["img"] = np.array(out if plane is img else out[..., None], order="C")
        return results

"""``ColorJitter``: MMOCR 0.6.3's pipeline step, torchvision's colour jitter on the BGR array.

MMOCR's step flips the BGR array to RGB, runs ``torchvision.transforms.ColorJitter`` on it as a
PIL image and flips the result back. This does the same through
:class:`ocr_ds.datasets.pipelines.torchvision_ops.ColorJitter` (torchvision's transform re-done
without torchvision: the factors drawn from torch's RNG in torchvision's order, the pixels from
Pillow), so a seeded torch gives MMOCR's image bit for bit. A grey image (``H x W``) is
jittered as Pillow's 'L' image, as in MMOCR (hue and saturation leave it unchanged); an
``H x W x 1`` one as its plane (MMOCR stops there).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from ocr_ds.datasets.pipelines.torchvision_ops import ColorJitter as _TorchVisionColorJitter
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
            raise UserError(f"ColorJitter: expected a uint8 image, as the image loader gives "
                            f"(got {img.dtype}); put ColorJitter before Normalize")
        if img.ndim == 3 and img.shape[2] == 1:
            out = np.asarray(self.transform(Image.fromarray(img[..., 0])))[..., None]
        elif img.ndim == 2:
            out = np.asarray(self.transform(Image.fromarray(img)))
        else:   # BGR -> RGB for Pillow and back, as MMOCR
            out = np.asarray(self.transform(Image.fromarray(img[..., ::-1])))[..., ::-1]
        results["img"] = np.array(out, order="C")   # writable (Pillow's arrays are not)
        return results

"""Detection-specific formatting: ``CustomFormatBundle`` (targets to tensors) and
``MultiScaleFlipAug`` (the test-time wrapper MMOCR's detection configs use).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.errors import UserError


class CustomFormatBundle:
    """MMOCR's bundle: the image as mmdet's ``DefaultFormatBundle`` does (``call_super``), and
    each target map in ``keys`` as a tensor of the same shape and dtype.

    ``visualize`` is accepted for MMOCR configs and ignored (no display here).
    """

    def __init__(self, keys: Sequence[str] = (), call_super: bool = True,
                 visualize: Mapping[str, Any] | None = None):
        self.keys = list(keys)
        self.call_super = call_super

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if self.call_super:
            from ocr_ds.datasets.pipelines.formatting import DefaultFormatBundle

            results = DefaultFormatBundle()(results)
        for key in self.keys:
            if key not in results:
                raise UserError(f"CustomFormatBundle.keys: {key!r} was not produced by the "
                                f"steps before it (have {sorted(results)})")
            value = results[key]
            if isinstance(value, np.ndarray):
                results[key] = torch.from_numpy(np.ascontiguousarray(value))
        return results


class MultiScaleFlipAug:
    """Run ``transforms`` on the image at one test scale (``results['scale']=img_scale``).

    ocr_ds's test forward decodes one view per image, so exactly one scale and no flip are
    accepted; the result is a plain sample, not mmdet's list of views.

    Args:
        transforms: The wrapped steps (``Resize``, ``Normalize``, ``Pad``, ``Collect``, ...).
        img_scale: ``(long, short)`` for ``Resize``, e.g. ``(1333, 736)``.
        scale_factor: Alternative to ``img_scale``: one rescale factor.
        flip: Must be False.
    """

    def __init__(self, transforms: Sequence[Mapping[str, Any]], img_scale: Any = None,
                 scale_factor: float | None = None, flip: bool = False,
                 flip_direction: str = "horizontal"):
        from ocr_ds.datasets.pipelines.compose import Compose

        if (img_scale is None) == (scale_factor is None):
            raise UserError("MultiScaleFlipAug: expected exactly one of img_scale, scale_factor "
                            f"(got img_scale={img_scale!r}, scale_factor={scale_factor!r})")
        from ocr_ds.datasets.pipelines.textdet_geometry import scale_list

        scales = scale_list(img_scale) if img_scale is not None else [None]
        if len(scales) != 1 or (scale_factor is not None and
                                isinstance(scale_factor, (list, tuple))):
            raise UserError(f"MultiScaleFlipAug.img_scale: one test scale is supported "
                            f"(got {img_scale if img_scale is not None else scale_factor!r})")
        if flip:
            raise UserError("MultiScaleFlipAug.flip: test-time flipping is not supported "
                            "(got True); expected False")
        self.img_scale = tuple(scales[0]) if img_scale is not None else None
        self.scale_factor = scale_factor
        self.transforms = Compose(transforms, "MultiScaleFlipAug.transforms")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        if self.img_scale is not None:
            results["scale"] = self.img_scale
        else:
            h, w = results["img"].shape[:2]
            results["scale"] = (int(w * self.scale_factor + 0.5),
                                int(h * self.scale_factor + 0.5))
        results["flip"] = False
        results["flip_direction"] = None
        return self.transforms(results)

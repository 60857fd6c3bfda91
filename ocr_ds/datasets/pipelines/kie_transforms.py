"""Key information extraction steps (MMOCR 0.6.3's ``kie_transforms``).

``ResizeNoImg``: the scale factor a ``Resize`` would apply, without an image (SDMGR's text-only
configs). ``KIEFormatBundle``: ``DefaultFormatBundle``, then the dataset's ``relations`` (scaled
by the resize: dx, dy by the x/y scales, the aspect ratios by their ratio) and ``texts``.

Per-box arrays (``relations``, ``texts``, ``gt_bboxes``, ``gt_labels``) stay numpy arrays: the
batch keeps them as lists (one per image, sizes differ), as mmcv's ``DataContainer`` does, and
the model makes tensors of them on its device.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ocr_ds.datasets.pipelines.formatting import DefaultFormatBundle
from ocr_ds.errors import UserError


def rescale_size(old_size: tuple[int, int], scale: Any) -> tuple[int, int]:
    """mmcv's ``rescale_size``: ``(w, h)`` scaled to fit ``scale`` (a number, or a
    ``(long, short)`` pair the long and short sides must fit in), rounded half up."""
    w, h = old_size
    if isinstance(scale, (int, float)) and not isinstance(scale, bool):
        if scale <= 0:
            raise UserError(f"ResizeNoImg.img_scale: expected a positive number (got {scale})")
        factor = float(scale)
    elif isinstance(scale, (list, tuple)) and len(scale) == 2:
        factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    else:
        raise UserError(f"ResizeNoImg.img_scale: expected a number or a (long, short) pair "
                        f"(got {scale!r})")
    return int(w * factor + 0.5), int(h * factor + 0.5)


class ResizeNoImg:
    """Set ``img_shape`` ``(new_h, new_w, 1)``, ``scale_factor`` and ``keep_ratio`` from
    ``img_info``'s width and height; nothing is resized (boxes included, as MMOCR).

    Args:
        img_scale: ``(long, short)`` (keep_ratio) or the ``(w, h)`` to resize to.
        keep_ratio: Fit inside ``img_scale`` keeping the aspect ratio. Defaults to True.
    """

    def __init__(self, img_scale: Sequence[int], keep_ratio: bool = True):
        self.img_scale = tuple(img_scale) if isinstance(img_scale, list) else img_scale
        self.keep_ratio = keep_ratio

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        w, h = results["img_info"]["width"], results["img_info"]["height"]
        if self.keep_ratio:
            new_w, new_h = rescale_size((w, h), self.img_scale)
        else:
            new_w, new_h = self.img_scale
        w_scale, h_scale = new_w / w, new_h / h
        results["img_shape"] = (new_h, new_w, 1)
        results["scale_factor"] = np.array([w_scale, h_scale, w_scale, h_scale],
                                           dtype=np.float32)
        results["keep_ratio"] = True        # MMOCR sets True whatever keep_ratio says
        return results


class KIEFormatBundle(DefaultFormatBundle):
    """``DefaultFormatBundle``, then ``relations`` and ``texts`` from ``ann_info`` (the
    relations multiplied by ``[sx, sy, sx / sy, 1, sx / sy]`` of ``scale_factor``)."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        results = super().__call__(results)
        if "ann_info" in results:
            for key in ("relations", "texts"):
                value = results["ann_info"][key]
                if key == "relations" and "scale_factor" in results:
                    scale_factor = results["scale_factor"]
                    if isinstance(scale_factor, float):
                        sx = sy = scale_factor
                    else:
                        sx, sy = results["scale_factor"][:2]
                    r = sx / sy
                    factor = np.array([sx, sy, r, 1, r]).astype(np.float32)
                    value = value * factor[None, None]
                results[key] = np.ascontiguousarray(value)
        return results

"""``HeadMixin``: what MMOCR 0.6.3's segmentation heads share (its ``HeadMixin``).

A head owns its loss and its post-processor (built by name, in this order, before the head's
layers, as MMOCR does -- the order matters for seeded initialisation), computes its loss on
the predicted maps and decodes one sample's maps into boundaries rescaled to the original
image: ``1 / downsample_ratio / scale_factor``, with the scale factor in float32 as mmdet's
``Resize`` stores it, so the numbers equal MMOCR's.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds import registry


def rescale_boundaries(boundaries: list[list[float]], factor_xy: Sequence[float]
                       ) -> list[list[float]]:
    """Multiply the x and y of every ``[x1, y1, ..., score]`` boundary by ``factor_xy``."""
    factor = np.asarray(factor_xy)[:2]
    out = []
    for b in boundaries:
        n = (len(b) - 1) // 2
        pts = np.asarray(b[:-1], dtype=np.float64) * np.tile(factor, n)
        out.append(pts.tolist() + [b[-1]])
    return out


def scale_factor_xy(img_meta: Mapping[str, Any]) -> np.ndarray:
    """``[w_scale, h_scale]`` (float32) from a meta's ``scale_factor`` (absent: 1; a scalar;
    or mmdet's 4 values)."""
    sf = np.asarray(img_meta.get("scale_factor", 1.0), dtype=np.float32).reshape(-1)
    return np.array([sf[0], sf[0]] if sf.size == 1 else [sf[0], sf[1]], dtype=np.float32)


def with_old_keys(postprocessor: Mapping, **old: Any) -> dict:
    """MMOCR moved ``text_repr_type``/``decoding_type`` from the head into the postprocessor;
    accept the old spelling on the head."""
    post = dict(postprocessor)
    for key, value in old.items():
        if value:
            post[key] = value
    return post


class HeadMixin:
    """Loss and post-processor of a head; call ``HeadMixin.__init__`` after ``nn.Module``'s.

    Subclasses set ``downsample_ratio`` (prediction resolution / input resolution).
    """

    downsample_ratio: float

    def __init__(self, loss: Mapping, postprocessor: Mapping):
        self.loss_module = registry.build(registry.COMPONENTS, loss, "model.bbox_head.loss")
        self.postprocessor = registry.build(registry.COMPONENTS, postprocessor,
                                            "model.bbox_head.postprocessor")

    def loss(self, preds: torch.Tensor, **targets: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.loss_module(preds, self.downsample_ratio, **targets)

    def get_boundary(self, pred: torch.Tensor, img_meta: Mapping[str, Any]) -> dict:
        """Decode one sample's ``(C, H, W)`` maps into original-image boundaries; with the
        image's ``filename`` (None for an array), as MMOCR's heads of this kind give it."""
        boundaries = self.postprocessor(pred)
        factor = 1.0 / self.downsample_ratio / scale_factor_xy(img_meta)
        return dict(boundary_result=rescale_boundaries(boundaries, factor),
                    filename=img_meta.get("filename"))

"""Detection heads: the layers on the neck's map, plus the loss and post-processor they own.

``_SegHead`` is what the segmentation heads share (MMOCR's ``HeadMixin``): building the loss
and post-processor, ``get_boundary`` decoding one sample and rescaling the boundaries to the
original image (``1 / downsample_ratio / scale_factor``). ``PSEHead`` predicts K kernel logits
at 1/4 of the input; DBNet's head is :mod:`ocr_ds.models.textdet.dbnet.head`.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError


def rescale_boundaries(boundaries: list[list[float]], factor_xy: Sequence[float]
                       ) -> list[list[float]]:
    """Multiply the x and y of every ``[x1, y1, ..., score]`` boundary by ``factor_xy``."""
    fx, fy = float(factor_xy[0]), float(factor_xy[1])
    out = []
    for b in boundaries:
        pts = np.asarray(b[:-1], dtype=np.float64).reshape(-1, 2) * (fx, fy)
        out.append(pts.flatten().tolist() + [b[-1]])
    return out


def scale_factor_xy(img_meta: Mapping[str, Any]) -> tuple[float, float]:
    """``(w_scale, h_scale)`` from a meta's ``scale_factor`` (absent: 1; scalar; or 2/4 values)."""
    sf = img_meta.get("scale_factor", 1.0)
    sf = np.asarray(sf, dtype=np.float64).reshape(-1)
    return (float(sf[0]), float(sf[0])) if sf.size == 1 else (float(sf[0]), float(sf[1]))


def _with_old_keys(postprocessor: Mapping, **old: Any) -> dict:
    """MMOCR moved ``text_repr_type``/``decoding_type`` from the head into the postprocessor;
    accept the old spelling on the head."""
    post = dict(postprocessor)
    if old.get("text_repr_type") is not None:
        post["text_repr_type"] = old["text_repr_type"]
    return post


class _SegHead(nn.Module):
    """What both heads share: building the loss and post-processor, decoding a batch."""

    downsample_ratio: float

    def _build_parts(self, loss: Mapping, postprocessor: Mapping) -> None:
        self.loss_module = registry.build(registry.COMPONENTS, loss, "model.bbox_head.loss")
        self.postprocessor = registry.build(registry.COMPONENTS, postprocessor,
                                            "model.bbox_head.postprocessor")

    def loss(self, preds: torch.Tensor, **targets: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.loss_module(preds, self.downsample_ratio, **targets)

    def get_boundary(self, pred: torch.Tensor, img_meta: Mapping[str, Any]) -> dict:
        """Decode one sample's ``(C, H, W)`` maps into original-image boundaries."""
        boundaries = self.postprocessor(pred)
        sx, sy = scale_factor_xy(img_meta)
        factor = (1.0 / self.downsample_ratio / sx, 1.0 / self.downsample_ratio / sy)
        return dict(boundary_result=rescale_boundaries(boundaries, factor))


class PSEHead(_SegHead):
    """PSENet head: one 1x1 conv from the neck's map to ``out_channels`` kernel logits
    (the text map first, then kernels shrinking to the smallest).

    Args:
        in_channels: Channels of the neck's map, as a one-element list (MMOCR's spelling).
        out_channels: Number of kernels. Defaults to 7.
        downsample_ratio: Output resolution / input resolution. Defaults to 0.25.
        loss: Defaults to ``dict(type='PSELoss')``.
        postprocessor: Defaults to ``dict(type='PSEPostprocessor', text_repr_type='poly')``.
    """

    def __init__(self, in_channels: Sequence[int] | int, out_channels: int = 7,
                 downsample_ratio: float = 0.25, loss: Mapping = dict(type="PSELoss"),
                 postprocessor: Mapping = dict(type="PSEPostprocessor", text_repr_type="poly"),
                 train_cfg: Any = None, test_cfg: Any = None, init_cfg: Any = None,
                 text_repr_type: str | None = None, decoding_type: str | None = None):
        super().__init__()
        channels = [in_channels] if isinstance(in_channels, int) else list(in_channels)
        if not channels or not all(isinstance(c, int) and c > 0 for c in channels):
            raise UserError(f"model.bbox_head.in_channels: expected a list of ints "
                            f"(got {in_channels!r})")
        if not isinstance(out_channels, int) or out_channels < 2:
            raise UserError(f"model.bbox_head.out_channels: expected an int >= 2 "
                            f"(got {out_channels!r})")
        if not 0 < downsample_ratio <= 1:
            raise UserError(f"model.bbox_head.downsample_ratio: expected a value in (0, 1] "
                            f"(got {downsample_ratio!r})")
        self.in_channels = channels
        self.out_channels = out_channels
        self.downsample_ratio = float(downsample_ratio)
        self._build_parts(loss, _with_old_keys(postprocessor, text_repr_type=text_repr_type))
        self.out_conv = nn.Conv2d(sum(channels), out_channels, kernel_size=1)
        nn.init.normal_(self.out_conv.weight, 0, 0.01)
        nn.init.zeros_(self.out_conv.bias)

    def forward(self, x: torch.Tensor | Sequence[torch.Tensor]) -> torch.Tensor:
        if isinstance(x, (list, tuple)):
            x = torch.cat(list(x), dim=1)
        return self.out_conv(x)

"""``FCEHead``: per pyramid level, a 3x3 conv to 4 classification channels (text region and
text center, two logits each) and one to ``2 (2k + 1)`` Fourier coefficients (real, imaginary).
"""
from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import bad_value
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.fcenet.postprocess import poly_nms
from ocr_ds.models.textdet.head_mixin import HeadMixin, rescale_boundaries, scale_factor_xy

# MMOCR 0.6.3's head still accepts these postprocessor keys at the top level (deprecated)
_OLD_POST_KEYS = ("text_repr_type", "decoding_type", "num_reconstr_points", "alpha", "beta",
                  "score_thr")


class FCEHead(HeadMixin, BaseModule):
    """FCENet head (Zhu et al., CVPR 2021), MMOCR 0.6.3's arguments and module names.

    Args:
        in_channels: Channels of each neck level.
        scales: The stride of each level (8, 16, 32): Fourier coefficients are predicted in
            level pixels and multiplied by it.
        fourier_degree: k, the highest Fourier degree. Defaults to 5.
        nms_thr: IoU threshold of the polygon NMS. Defaults to 0.1.
        loss: Defaults to ``dict(type='FCELoss', num_sample=50)`` (``fourier_degree`` is set
            here).
        postprocessor: Defaults to ``FCEPostprocessor`` 'poly', 50 points, alpha 1, beta 2,
            score_thr 0.3 (``fourier_degree`` and ``nms_thr`` are set here).
        init_cfg: Defaults to Normal(0, 0.01) on both output convs.
    """

    def __init__(self, in_channels: int, scales: Sequence[int], fourier_degree: int = 5,
                 nms_thr: float = 0.1,
                 loss: Mapping = dict(type="FCELoss", num_sample=50),  # noqa: B006
                 postprocessor: Mapping = dict(  # noqa: B006
                     type="FCEPostprocessor", text_repr_type="poly", num_reconstr_points=50,
                     alpha=1.0, beta=2.0, score_thr=0.3),
                 train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: Any = dict(type="Normal", mean=0, std=0.01,  # noqa: B006
                                      override=[dict(name="out_conv_cls"),
                                                dict(name="out_conv_reg")]),
                 **kwargs: Any):
        BaseModule.__init__(self, init_cfg=init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise bad_value("model.bbox_head.in_channels", in_channels, "a channel count")
        if not isinstance(fourier_degree, int) or fourier_degree < 2:
            raise bad_value("model.bbox_head.fourier_degree", fourier_degree,
                            "an integer >= 2")
        unknown = sorted(set(kwargs) - set(_OLD_POST_KEYS) - {"num_sample"})
        if unknown:
            raise bad_value("model.bbox_head", unknown[0], "a known FCEHead argument")
        loss, postprocessor = dict(loss), dict(postprocessor)
        for key in _OLD_POST_KEYS:
            if kwargs.get(key):
                postprocessor[key] = kwargs[key]
                warnings.warn(f"model.bbox_head.{key} is deprecated: give it in "
                              f"model.bbox_head.postprocessor")
        if kwargs.get("num_sample"):
            loss["num_sample"] = kwargs["num_sample"]
            warnings.warn("model.bbox_head.num_sample is deprecated: give it in "
                          "model.bbox_head.loss")
        loss["fourier_degree"] = fourier_degree
        postprocessor["fourier_degree"] = fourier_degree
        postprocessor["nms_thr"] = nms_thr
        HeadMixin.__init__(self, loss, postprocessor)
        self.downsample_ratio = 1.0
        self.in_channels = in_channels
        self.scales = list(scales)
        self.fourier_degree = fourier_degree
        self.nms_thr = nms_thr
        self.out_channels_cls = 4
        self.out_channels_reg = (2 * fourier_degree + 1) * 2
        self.out_conv_cls = nn.Conv2d(in_channels, self.out_channels_cls, 3, 1, 1)
        self.out_conv_reg = nn.Conv2d(in_channels, self.out_channels_reg, 3, 1, 1)

    def forward(self, feats: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        """``[[cls (N, 4, H_i, W_i), reg (N, 4k+2, H_i, W_i)], ...]``, one pair per level."""
        return [[self.out_conv_cls(x), self.out_conv_reg(x)] for x in feats]

    def get_boundary(self, preds: list[list[torch.Tensor]], img_meta: Mapping[str, Any]
                     ) -> dict:
        """Decode one image's levels (each tensor of batch size 1) into boundaries in the
        original image's coordinates."""
        if len(preds) != len(self.scales):
            raise bad_value("model.bbox_head.scales", self.scales,
                            f"one stride per neck level ({len(preds)} levels)")
        boundaries: list[list[float]] = []
        for level, scale in zip(preds, self.scales):
            boundaries += self.postprocessor(level, scale)
        boundaries = poly_nms(boundaries, self.nms_thr)
        # the coordinates are input pixels already (scaled by each level's stride)
        return dict(boundary_result=rescale_boundaries(boundaries,
                                                       1.0 / scale_factor_xy(img_meta)))

"""FPNF: PSENet's feature-pyramid neck, as MMOCR 0.6.3 builds it.

The module tree is MMOCR's -- ``lateral_convs`` / ``fpn_convs`` (our ``ModuleList``) of
``ConvModule`` (1x1 / 3x3 conv, BN, ReLU) and one ``output_convs`` ConvModule -- so its
state-dict keys are MMOCR's (``neck.lateral_convs.0.conv.weight``, ``...bn.running_mean``).

Effective initialisation: the ``init_cfg`` (Xavier-uniform on every Conv2d) runs first, then
every ConvModule's own Kaiming init overwrites it (mmcv's walk, see
:mod:`ocr_ds.models.common.base`), so the convs end up Kaiming-normal (fan_out) as in MMOCR.
The modules are constructed in MMOCR's order (lateral i, then smoothing conv i) so a seeded
build draws the same random numbers.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList
from ocr_ds.models.common.conv_module import ConvModule


def check_in_channels(in_channels: Any, key: str) -> list[int]:
    """A list of positive ints (the channels of each backbone level)."""
    if not isinstance(in_channels, (list, tuple)) or not in_channels or not all(
            isinstance(c, int) and c > 0 for c in in_channels):
        raise UserError(f"{key}: expected a list of positive ints (got {in_channels!r})")
    return list(in_channels)


class FPNF(BaseModule):
    """PSENet's FPN: BN+ReLU laterals, smoothed top-down sums, concat (or add), a 3x3 conv.

    Args:
        in_channels: Channels of each input level. Defaults to [256, 512, 1024, 2048].
        out_channels: Channels of every level and of the output. Defaults to 256.
        fusion_type: 'concat' or 'add'. Defaults to 'concat'.
        init_cfg: Defaults to MMOCR's ``dict(type='Xavier', layer='Conv2d',
            distribution='uniform')`` (overwritten by the ConvModules' own init, as in MMOCR).

    MMOCR sizes the output conv's input for four 256-channel levels whatever the arguments
    (1024 for 'concat', 256 for 'add'); here it is ``out_channels * len(in_channels)``
    ('concat') or ``out_channels`` ('add'), the same for every configuration MMOCR can run, and
    right for narrower ones (the CPU demo's).
    """

    def __init__(self, in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256, fusion_type: str = "concat",
                 init_cfg: Any = dict(type="Xavier", layer="Conv2d", distribution="uniform")):
        super().__init__(init_cfg=init_cfg)
        in_channels = check_in_channels(in_channels, "model.neck.in_channels")
        if fusion_type not in ("concat", "add"):
            raise UserError(f"model.neck.fusion_type: expected 'concat' or 'add' "
                            f"(got {fusion_type!r})")
        norm_cfg = dict(type="BN")
        act_cfg = dict(type="ReLU")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.lateral_convs = ModuleList()
        self.fpn_convs = ModuleList()
        self.backbone_end_level = len(in_channels)
        for i, channels in enumerate(in_channels):
            self.lateral_convs.append(ConvModule(channels, out_channels, 1, norm_cfg=norm_cfg,
                                                 act_cfg=act_cfg, inplace=False))
            if i < self.backbone_end_level - 1:
                self.fpn_convs.append(ConvModule(out_channels, out_channels, 3, padding=1,
                                                 norm_cfg=norm_cfg, act_cfg=act_cfg,
                                                 inplace=False))
        self.fusion_type = fusion_type
        fused = out_channels * len(in_channels) if fusion_type == "concat" else out_channels
        self.output_convs = ConvModule(fused, out_channels, 3, padding=1, norm_cfg=norm_cfg,
                                       act_cfg=act_cfg, inplace=False)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """C2..C5 maps -> one ``(N, out_channels, H2, W2)`` map."""
        if len(inputs) != len(self.in_channels):
            raise ValueError(f"FPNF: expected {len(self.in_channels)} maps, got {len(inputs)}")
        laterals = [conv(x) for conv, x in zip(self.lateral_convs, inputs)]
        for i in range(len(laterals) - 1, 0, -1):
            merged = laterals[i - 1] + F.interpolate(
                laterals[i], size=laterals[i - 1].shape[2:], mode="nearest")
            laterals[i - 1] = self.fpn_convs[i - 1](merged)
        size = laterals[0].shape[2:]
        laterals = [laterals[0]] + [F.interpolate(x, size=size, mode="nearest")
                                    for x in laterals[1:]]
        if self.fusion_type == "concat":
            out = torch.cat(laterals, 1)
        else:
            # summed left to right, as MMOCR does
            out = laterals[0]
            for x in laterals[1:]:
                out = out + x
        return self.output_convs(out)

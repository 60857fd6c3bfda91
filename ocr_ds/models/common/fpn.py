"""mmdet 2.28's ``FPN`` neck (``type='mmdet.FPN'``: MMOCR's FCENet and Mask R-CNN configs).

Same module tree as mmdet's: ``lateral_convs`` and ``fpn_convs`` are *torch* ``nn.ModuleList``s
of :class:`~ocr_ds.models.common.conv_module.ConvModule`, so the ``init_weights`` walk does not
reach the ConvModules and their Kaiming init is overwritten by the neck's own ``init_cfg``
(Xavier uniform on every ``Conv2d``) -- mmdet's effective initialisation.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.conv_module import ConvModule

_EXTRA = ("on_input", "on_lateral", "on_output")


class FPN(BaseModule):
    """Feature Pyramid Network (Lin et al., 2017), mmdet's arguments and names.

    Args:
        in_channels: Channels of each backbone level given.
        out_channels: Channels of every output level.
        num_outs: Number of output levels.
        start_level, end_level: The backbone levels used (``end_level`` inclusive, -1 the last).
            Defaults to 0, -1.
        add_extra_convs: False (extra levels by max-pooling), True (= 'on_input'),
            'on_input', 'on_lateral' or 'on_output': where the stride-2 extra convs start.
            Defaults to False.
        relu_before_extra_convs: ReLU before every extra conv after the first. Defaults to False.
        no_norm_on_lateral: No norm on the lateral 1x1 convs. Defaults to False.
        conv_cfg, norm_cfg, act_cfg: Of every ConvModule. Defaults to None (plain conv).
        upsample_cfg: ``F.interpolate`` arguments. Defaults to ``dict(mode='nearest')``.
        init_cfg: Defaults to Xavier uniform on ``Conv2d``.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int, num_outs: int,
                 start_level: int = 0, end_level: int = -1,
                 add_extra_convs: bool | str = False, relu_before_extra_convs: bool = False,
                 no_norm_on_lateral: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping | None = None, act_cfg: Mapping | None = None,
                 upsample_cfg: Mapping[str, Any] = dict(mode="nearest"),  # noqa: B006
                 init_cfg: Any = dict(type="Xavier", layer="Conv2d",  # noqa: B006
                                      distribution="uniform")):
        super().__init__(init_cfg)
        if not isinstance(in_channels, (list, tuple)) or not all(
                isinstance(c, int) and c > 0 for c in in_channels):
            raise bad_value("model.neck.in_channels", in_channels, "a list of channel counts")
        self.in_channels = list(in_channels)
        self.out_channels = out_channels
        self.num_ins = len(in_channels)
        self.num_outs = num_outs
        self.relu_before_extra_convs = relu_before_extra_convs
        self.no_norm_on_lateral = no_norm_on_lateral
        self.upsample_cfg = dict(upsample_cfg)
        if end_level in (-1, self.num_ins - 1):
            self.backbone_end_level = self.num_ins
            if num_outs < self.num_ins - start_level:
                raise bad_value("model.neck.num_outs", num_outs,
                                f"at least {self.num_ins - start_level} (the levels used)")
        else:
            self.backbone_end_level = end_level + 1
            if not end_level < self.num_ins or num_outs != end_level - start_level + 1:
                raise UserError(f"model.neck: end_level={end_level} needs end_level < "
                                f"{self.num_ins} and num_outs == end_level - start_level + 1 "
                                f"(got num_outs={num_outs})")
        self.start_level = start_level
        self.end_level = end_level
        if isinstance(add_extra_convs, str):
            if add_extra_convs not in _EXTRA:
                raise bad_value("model.neck.add_extra_convs", add_extra_convs,
                                f"a bool or one of {_EXTRA}")
        elif not isinstance(add_extra_convs, bool):
            raise bad_value("model.neck.add_extra_convs", add_extra_convs,
                            f"a bool or one of {_EXTRA}")
        elif add_extra_convs:
            add_extra_convs = "on_input"
        self.add_extra_convs = add_extra_convs

        # torch's ModuleList, as mmdet: the init walk stops here (see the module docstring)
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(self.start_level, self.backbone_end_level):
            self.lateral_convs.append(ConvModule(
                in_channels[i], out_channels, 1, conv_cfg=conv_cfg,
                norm_cfg=norm_cfg if not no_norm_on_lateral else None, act_cfg=act_cfg,
                inplace=False))
            self.fpn_convs.append(ConvModule(
                out_channels, out_channels, 3, padding=1, conv_cfg=conv_cfg,
                norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))
        extra_levels = num_outs - self.backbone_end_level + self.start_level
        if self.add_extra_convs and extra_levels >= 1:
            for i in range(extra_levels):
                if i == 0 and self.add_extra_convs == "on_input":
                    channels = self.in_channels[self.backbone_end_level - 1]
                else:
                    channels = out_channels
                self.fpn_convs.append(ConvModule(
                    channels, out_channels, 3, stride=2, padding=1, conv_cfg=conv_cfg,
                    norm_cfg=norm_cfg, act_cfg=act_cfg, inplace=False))

    def forward(self, inputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.in_channels):
            raise UserError(f"model.neck.in_channels: {len(self.in_channels)} levels, but the "
                            f"backbone gives {len(inputs)} (check backbone.out_indices)")
        laterals = [conv(inputs[i + self.start_level])
                    for i, conv in enumerate(self.lateral_convs)]
        for i in range(len(laterals) - 1, 0, -1):
            if "scale_factor" in self.upsample_cfg:
                up = F.interpolate(laterals[i], **self.upsample_cfg)
            else:
                up = F.interpolate(laterals[i], size=laterals[i - 1].shape[2:],
                                   **self.upsample_cfg)
            laterals[i - 1] = laterals[i - 1] + up
        used = len(laterals)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(used)]
        if self.num_outs > used:
            if not self.add_extra_convs:
                for _ in range(self.num_outs - used):
                    outs.append(F.max_pool2d(outs[-1], 1, stride=2))
            else:
                source = {"on_input": inputs[self.backbone_end_level - 1],
                          "on_lateral": laterals[-1], "on_output": outs[-1]}
                outs.append(self.fpn_convs[used](source[self.add_extra_convs]))
                for i in range(used + 1, self.num_outs):
                    x = F.relu(outs[-1]) if self.relu_before_extra_convs else outs[-1]
                    outs.append(self.fpn_convs[i](x))
        return tuple(outs)

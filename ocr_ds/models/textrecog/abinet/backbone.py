"""``ResNetABI``: ABINet's ResNet (MMOCR 0.6.3's ``backbones/resnet_abi.py``).

A 3x3 stem (with bias) and five stages of MMOCR's textrecog ``BasicBlock`` with a 1x1 first
conv (:mod:`ocr_ds.models.common.ocr_blocks`); a stage whose stride or width changes gets a
1x1 conv + BN shortcut. Stages are mmcv ``Sequential``s of plain blocks, so every conv keeps the
backbone's ``init_cfg`` (Xavier for ``Conv2d``, 1 for ``BatchNorm2d`` weights).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential
from ocr_ds.models.common.ocr_blocks import BasicBlock


def _int_list(value: Any, key: str) -> list[int]:
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise UserError(f"{key}: expected a list of positive integers (got {value!r})")
    return list(value)


class ResNetABI(BaseModule):
    """ABINet's backbone.

    Args:
        in_channels: Image channels. Defaults to 3.
        stem_channels: Channels of the stem conv. Defaults to 32.
        base_channels: Channels of the first stage (doubled each stage). Defaults to 32.
        arch_settings: Blocks per stage. Defaults to ``[3, 4, 6, 6, 3]``.
        strides: Stride of each stage's first block. Defaults to ``[2, 1, 2, 1, 1]``.
        out_indices: Stages whose outputs are returned (a tuple), or None for the last only.
            Defaults to None.
        last_stage_pool: Kept for MMOCR's signature (MMOCR ignores it too). Defaults to False.
        init_cfg: Defaults to Xavier for ``Conv2d``, constant 1 for ``BatchNorm2d``.
    """

    def __init__(self, in_channels: int = 3, stem_channels: int = 32, base_channels: int = 32,
                 arch_settings: Sequence[int] = (3, 4, 6, 6, 3),
                 strides: Sequence[int] = (2, 1, 2, 1, 1),
                 out_indices: Sequence[int] | None = None, last_stage_pool: bool = False,
                 init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Xavier", layer="Conv2d"),
                        dict(type="Constant", val=1, layer="BatchNorm2d")]
        super().__init__(init_cfg=init_cfg)
        key = "model.backbone"
        for name, value in (("in_channels", in_channels), ("stem_channels", stem_channels),
                            ("base_channels", base_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise UserError(f"{key}.{name}: expected a positive integer (got {value!r})")
        arch_settings = _int_list(arch_settings, f"{key}.arch_settings")
        strides = _int_list(strides, f"{key}.strides")
        if len(arch_settings) != len(strides):
            raise UserError(f"{key}.strides: expected one stride per stage of arch_settings "
                            f"({len(arch_settings)}) (got {strides!r})")
        if out_indices is not None and not isinstance(out_indices, (list, tuple)):
            raise UserError(f"{key}.out_indices: expected a list of stage indices or None "
                            f"(got {out_indices!r})")
        if not isinstance(last_stage_pool, bool):
            raise UserError(f"{key}.last_stage_pool: expected True or False "
                            f"(got {last_stage_pool!r})")
        self.out_indices = out_indices
        self.last_stage_pool = last_stage_pool
        self.block = BasicBlock
        self.inplanes = stem_channels
        self.conv1 = nn.Conv2d(in_channels, stem_channels, kernel_size=3, stride=1, padding=1)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.res_layers = []
        planes = base_channels
        for i, (num_blocks, stride) in enumerate(zip(arch_settings, strides)):
            layer = self._make_layer(self.inplanes, planes, num_blocks, stride)
            self.inplanes = planes * self.block.expansion
            planes *= 2
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")

    def _make_layer(self, inplanes: int, planes: int, blocks: int, stride: int) -> Sequential:
        downsample = None
        if stride != 1 or inplanes != planes:
            downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes))
        layers = [self.block(inplanes, planes, use_conv1x1=True, stride=stride,
                             downsample=downsample)]
        layers += [self.block(planes, planes, use_conv1x1=True) for _ in range(1, blocks)]
        return Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.relu1(self.bn1(self.conv1(x)))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if self.out_indices and i in self.out_indices:
                outs.append(x)
        return tuple(outs) if self.out_indices else x

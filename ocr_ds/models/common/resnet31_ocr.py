"""``ResNet31OCR``: the recognition backbone of SAR, NRTR (r31 variants) and RobustScanner
(MMOCR 0.6.3's ``mmocr/models/textrecog/backbones/resnet31_ocr.py``).

Here, in ``common/``, because three families share it. Two 3x3 convs, then four stages of
(max-pool, residual blocks, 3x3 conv-bn-relu); the pools halve height and width in stages 2 and
3, stage 4 pools by ``stage4_pool_cfg`` (height only by default) and stage 5 only with
``last_stage_pool``. A 48x160 crop gives a 512 x 6 x 40 map (1/8 high, 1/4 wide).

Initialisation is MMOCR's effective one: Kaiming (fan_out, normal) for every Conv2d and
Uniform(0, 1) for every BatchNorm2d weight (bias 0), from the backbone's ``init_cfg``; the
blocks are plain modules, the stages mmcv-style ``Sequential``s, so nothing overrides it.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential
from ocr_ds.models.common.ocr_blocks import BasicBlock


def _int_list(value: Any, key: str, length: int) -> list[int]:
    if (not isinstance(value, (list, tuple)) or len(value) != length
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise UserError(f"model.backbone.{key}: expected a list of {length} integers "
                        f"(got {value!r})")
    return list(value)


class ResNet31OCR(BaseModule):
    """ResNet-31 for text recognition.

    Args:
        base_channels: Input image channels. Defaults to 3.
        layers: Blocks per stage (4 stages). Defaults to [1, 2, 5, 3].
        channels: Output channels of conv1_1, conv1_2 and stages 2-5 (the 7th is unused, as
            in MMOCR). Defaults to [64, 128, 256, 256, 512, 512, 512].
        out_indices: Stages (0-3) whose outputs are returned as a tuple; None returns the last
            map. Defaults to None.
        stage4_pool_cfg: ``kernel_size`` / ``stride`` of stage 4's max-pool. Defaults to
            ``dict(kernel_size=(2, 1), stride=(2, 1))``.
        last_stage_pool: Max-pool 2x2 before stage 5. Defaults to False.
        init_cfg: Defaults to Kaiming for Conv2d and Uniform for BatchNorm2d.
    """

    def __init__(self, base_channels: int = 3, layers: Sequence[int] = (1, 2, 5, 3),
                 channels: Sequence[int] = (64, 128, 256, 256, 512, 512, 512),
                 out_indices: Sequence[int] | None = None,
                 stage4_pool_cfg: Mapping[str, Any] | None = None,
                 last_stage_pool: bool = False, init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                        dict(type="Uniform", layer="BatchNorm2d")]
        super().__init__(init_cfg=init_cfg)
        if not isinstance(base_channels, int) or isinstance(base_channels, bool):
            raise UserError(f"model.backbone.base_channels: expected an integer "
                            f"(got {base_channels!r})")
        layers = _int_list(layers, "layers", 4)
        if not isinstance(channels, (list, tuple)) or len(channels) < 6:
            raise UserError(f"model.backbone.channels: expected a list of 7 integers "
                            f"(got {channels!r})")
        channels = _int_list(channels, "channels", len(channels))
        if out_indices is not None and not isinstance(out_indices, (list, tuple)):
            raise UserError(f"model.backbone.out_indices: expected None or a list of stage "
                            f"indices 0-3 (got {out_indices!r})")
        if not isinstance(last_stage_pool, bool):
            raise UserError(f"model.backbone.last_stage_pool: expected True or False "
                            f"(got {last_stage_pool!r})")
        if stage4_pool_cfg is None:
            stage4_pool_cfg = dict(kernel_size=(2, 1), stride=(2, 1))
        self.out_indices = out_indices
        self.last_stage_pool = last_stage_pool

        self.conv1_1 = nn.Conv2d(base_channels, channels[0], kernel_size=3, stride=1, padding=1)
        self.bn1_1 = nn.BatchNorm2d(channels[0])
        self.relu1_1 = nn.ReLU(inplace=True)
        self.conv1_2 = nn.Conv2d(channels[0], channels[1], kernel_size=3, stride=1, padding=1)
        self.bn1_2 = nn.BatchNorm2d(channels[1])
        self.relu1_2 = nn.ReLU(inplace=True)

        # stages 2-5: (pool), residual blocks, conv-bn-relu; the attribute names are MMOCR's
        pools = {
            2: nn.MaxPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),
            3: nn.MaxPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),
            4: nn.MaxPool2d(padding=0, ceil_mode=True, **stage4_pool_cfg),
            5: (nn.MaxPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True)
                if last_stage_pool else None),
        }
        for stage in range(2, 6):
            c_in, c_out = channels[stage - 1], channels[stage]
            setattr(self, f"pool{stage}", pools[stage])
            setattr(self, f"block{stage}", self._make_layer(c_in, c_out, layers[stage - 2]))
            setattr(self, f"conv{stage}", nn.Conv2d(c_out, c_out, kernel_size=3, stride=1,
                                                    padding=1))
            setattr(self, f"bn{stage}", nn.BatchNorm2d(c_out))
            setattr(self, f"relu{stage}", nn.ReLU(inplace=True))

    @staticmethod
    def _make_layer(input_channels: int, output_channels: int, blocks: int) -> Sequential:
        layers = []
        for _ in range(blocks):
            downsample = None
            if input_channels != output_channels:
                downsample = Sequential(
                    nn.Conv2d(input_channels, output_channels, kernel_size=1, stride=1,
                              bias=False),
                    nn.BatchNorm2d(output_channels))
            layers.append(BasicBlock(input_channels, output_channels, downsample=downsample))
            input_channels = output_channels
        return Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.relu1_1(self.bn1_1(self.conv1_1(x)))
        x = self.relu1_2(self.bn1_2(self.conv1_2(x)))
        outs = []
        for stage in range(2, 6):
            pool = getattr(self, f"pool{stage}")
            if pool is not None:
                x = pool(x)
            x = getattr(self, f"block{stage}")(x)
            x = getattr(self, f"relu{stage}")(getattr(self, f"bn{stage}")(
                getattr(self, f"conv{stage}")(x)))
            outs.append(x)
        if self.out_indices is not None:
            return tuple(outs[i] for i in self.out_indices)
        return x

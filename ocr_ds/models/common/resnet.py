"""ResNet backbone with mmdet's constructor (``type='mmdet.ResNet'`` in MMOCR configs).

Plain PyTorch. Parameter names follow torchvision (``conv1``, ``bn1``, ``layer1.0.conv1``, ...),
so torchvision ImageNet weights load as they are. ``style='pytorch'`` puts a bottleneck's stride
on its 3x3 conv, ``'caffe'`` on its first 1x1 conv (basic blocks do not care).
``base_channels`` scales every width (64 is the usual ResNet; 32 gives a 4x cheaper network,
what the CPU demo uses).

Pretrained weights come only from a local file: ``init_cfg=dict(type='Pretrained',
checkpoint=PATH)``. ``torchvision://resnetNN`` is looked up in torch's local hub cache
(``$TORCH_HOME/hub/checkpoints/resnetNN-*.pth``); nothing is ever downloaded.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.init import load_pretrained
from ocr_ds.models.common.norm import build_norm, is_norm


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, style: str = "pytorch",
                 norm_cfg: Mapping | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = build_norm(norm_cfg, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = build_norm(norm_cfg, planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, style: str = "pytorch",
                 norm_cfg: Mapping | None = None):
        super().__init__()
        # where the stride goes is the only difference between the two styles
        s1, s2 = (stride, 1) if style == "caffe" else (1, stride)
        self.conv1 = nn.Conv2d(inplanes, planes, 1, s1, bias=False)
        self.bn1 = build_norm(norm_cfg, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, s2, 1, bias=False)
        self.bn2 = build_norm(norm_cfg, planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = build_norm(norm_cfg, planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


ARCH = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """ResNet returning the feature maps of the stages in ``out_indices`` (C2..C5 by default).

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: Input image channels. Defaults to 3.
        base_channels: Width of the stem and the first stage. Defaults to 64.
        num_stages: Residual stages used, 1..4. Defaults to 4.
        strides: Stride of each stage. Defaults to (1, 2, 2, 2).
        out_indices: Stages whose outputs are returned. Defaults to (0, 1, 2, 3).
        style: 'pytorch' or 'caffe' (where a bottleneck puts its stride). Defaults to 'pytorch'.
        frozen_stages: Stages (and the stem, from 0) kept frozen; -1 freezes nothing.
            Defaults to -1.
        norm_cfg: Normalisation layer, see :mod:`ocr_ds.models.common.norm`.
            Defaults to ``dict(type='BN', requires_grad=True)``.
        norm_eval: Keep BN layers in eval mode (frozen running stats) while training.
            Defaults to True, as mmdet.
        zero_init_residual: Zero the last BN of each block at init. Defaults to True.
        init_cfg: ``dict(type='Pretrained', checkpoint=PATH)`` or None. Defaults to None.
        pretrained: Deprecated spelling of ``init_cfg`` (a path). Defaults to None.
    """

    def __init__(self, depth: int, in_channels: int = 3, base_channels: int = 64,
                 num_stages: int = 4, strides: Sequence[int] = (1, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3), style: str = "pytorch",
                 deep_stem: bool = False, avg_down: bool = False, frozen_stages: int = -1,
                 conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping | None = None, norm_eval: bool = True,
                 dcn: Mapping | None = None, stage_with_dcn: Sequence[bool] | None = None,
                 plugins: Any = None, with_cp: bool = False, zero_init_residual: bool = True,
                 pretrained: str | None = None, init_cfg: Mapping | None = None):
        super().__init__()
        if depth not in ARCH:
            raise UserError(f"backbone.depth: expected one of {sorted(ARCH)} (got {depth!r})")
        if style not in ("pytorch", "caffe"):
            raise UserError(f"backbone.style: expected 'pytorch' or 'caffe' (got {style!r})")
        if not 1 <= num_stages <= 4:
            raise UserError(f"backbone.num_stages: expected 1..4 (got {num_stages!r})")
        if any(not 0 <= i < num_stages for i in out_indices):
            raise UserError(f"backbone.out_indices: expected indices below num_stages="
                            f"{num_stages} (got {tuple(out_indices)!r})")
        # what mmdet offers beyond a plain ResNet is refused clearly, not silently ignored
        unsupported = dict(dcn=dcn, plugins=plugins, conv_cfg=conv_cfg)
        for name, value in unsupported.items():
            if value is not None:
                raise UserError(f"backbone.{name}: not supported by ocr_ds's ResNet "
                                f"(got {value!r}); expected None")
        if stage_with_dcn is not None and any(stage_with_dcn):
            raise UserError(f"backbone.stage_with_dcn: deformable convolutions are not "
                            f"supported (got {stage_with_dcn!r})")
        if deep_stem or avg_down or any(d != 1 for d in dilations):
            raise UserError("backbone: deep_stem, avg_down and dilations != 1 are not "
                            "supported by ocr_ds's ResNet")
        if pretrained is not None and init_cfg is not None:
            raise UserError("backbone: give init_cfg or pretrained, not both")
        if pretrained is not None:
            init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        norm_cfg = dict(type="BN", requires_grad=True) if norm_cfg is None else norm_cfg

        block, stage_blocks = ARCH[depth]
        self.depth = depth
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.init_cfg = init_cfg
        self.zero_init_residual = zero_init_residual
        self.with_cp = with_cp

        self.conv1 = nn.Conv2d(in_channels, base_channels, 7, 2, 3, bias=False)
        self.bn1 = build_norm(norm_cfg, base_channels, "backbone.norm_cfg")
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)

        self.res_layers: list[str] = []
        inplanes = base_channels
        self.out_channels: list[int] = []
        for i in range(num_stages):
            planes = base_channels * 2**i
            layer = self._make_layer(block, inplanes, planes, stage_blocks[i], strides[i],
                                     style, norm_cfg)
            inplanes = planes * block.expansion
            name = f"layer{i + 1}"
            self.add_module(name, layer)
            self.res_layers.append(name)
            self.out_channels.append(inplanes)

        self.init_weights()
        self._freeze_stages()

    @staticmethod
    def _make_layer(block: type, inplanes: int, planes: int, blocks: int, stride: int,
                    style: str, norm_cfg: Mapping) -> nn.Sequential:
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * block.expansion, 1, stride, bias=False),
                build_norm(norm_cfg, planes * block.expansion))
        layers = [block(inplanes, planes, stride, downsample, style, norm_cfg)]
        inplanes = planes * block.expansion
        layers += [block(inplanes, planes, 1, None, style, norm_cfg) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def init_weights(self) -> None:
        """Kaiming convs, unit norms (zero last norm of each block), then pretrained weights."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif is_norm(m) and getattr(m, "weight", None) is not None:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if self.zero_init_residual:
            for m in self.modules():
                last = getattr(m, "bn3", None) if isinstance(m, Bottleneck) else (
                    getattr(m, "bn2", None) if isinstance(m, BasicBlock) else None)
                if last is not None and getattr(last, "weight", None) is not None:
                    nn.init.zeros_(last.weight)
        if self.init_cfg is not None:
            load_pretrained(self, self.init_cfg, "backbone.init_cfg")

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            for m in (self.conv1, self.bn1):
                m.eval()
                for p in m.parameters():
                    p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f"layer{i}")
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> "ResNet":
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

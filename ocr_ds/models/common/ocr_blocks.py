"""The residual blocks of MMOCR's recognition backbones (``mmocr/models/textrecog/layers/
conv_layer.py``): used by ResNet31OCR (SAR, NRTR, RobustScanner) and by MASTER's and ABINet's
ResNets.

These are not mmdet's blocks (:mod:`.resnet`): no norm config, convs without bias, an optional
1x1 first conv, and mmcv plugins (``plugins=[dict(cfg=dict(type=...), position=...)]``,
positions ``before_conv1``, ``after_conv1``, ``after_conv2``, ``after_shortcut``). Plain
``nn.Module``s, as in MMOCR, so their layers keep what the backbone's ``init_cfg`` gives them.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.plugin import build_plugin_layer

PLUGIN_POSITIONS = ("before_conv1", "after_conv1", "after_conv2", "after_shortcut")


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=1, padding=0, bias=False)


class BasicBlock(nn.Module):
    """conv-bn-relu, conv-bn, + shortcut, relu (MMOCR's textrecog ``BasicBlock``).

    Args:
        inplanes, planes: Input and output channels.
        stride: Stride of the 3x3 conv. Defaults to 1.
        downsample: The shortcut's module, or None for identity. Defaults to None.
        use_conv1x1: First conv 1x1 (the stride then goes to the second). Defaults to False.
        plugins: A plugin dict or a list of them. Defaults to None.
        plugins_key: The config key path of ``plugins``, for error messages (not MMOCR's
            argument). Defaults to ``'plugins'``.
    """

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None, use_conv1x1: bool = False,
                 plugins: Any = None, plugins_key: str = "plugins"):
        super().__init__()
        if use_conv1x1:
            self.conv1 = conv1x1(inplanes, planes)
            self.conv2 = conv3x3(planes, planes * self.expansion, stride)
        else:
            self.conv1 = conv3x3(inplanes, planes, stride)
            self.conv2 = conv3x3(planes, planes * self.expansion)
        self.with_plugins = bool(plugins)
        if self.with_plugins:
            if isinstance(plugins, dict):
                plugins, keys = [plugins], [f"{plugins_key}.cfg"]
            else:
                plugins = list(plugins)
                keys = [f"{plugins_key}.{i}.cfg" for i in range(len(plugins))]
            for plugin, key in zip(plugins, keys):
                if not isinstance(plugin, dict) or not isinstance(plugin.get("cfg"), dict):
                    raise UserError(f"{key[:-4]}: expected dict(cfg=dict(type=...), "
                                    f"position=...) (got {plugin!r})")
            by_position = {pos: [(p["cfg"], k) for p, k in zip(plugins, keys)
                                 if p.get("position") == pos]
                           for pos in PLUGIN_POSITIONS}
        self.planes = planes
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.bn2 = nn.BatchNorm2d(planes * self.expansion)
        self.downsample = downsample
        self.stride = stride
        if self.with_plugins:
            # MMOCR builds every position's plugins with in_channels=planes except the first
            self.before_conv1_plugin_names = self.make_block_plugins(
                inplanes, by_position["before_conv1"])
            self.after_conv1_plugin_names = self.make_block_plugins(
                planes, by_position["after_conv1"])
            self.after_conv2_plugin_names = self.make_block_plugins(
                planes, by_position["after_conv2"])
            self.after_shortcut_plugin_names = self.make_block_plugins(
                planes, by_position["after_shortcut"])

    def make_block_plugins(self, in_channels: int, plugins: Sequence[tuple[dict, str]]
                           ) -> list[str]:
        names = []
        for plugin, key in plugins:
            plugin = dict(plugin)
            name, layer = build_plugin_layer(plugin, postfix=plugin.pop("postfix", ""), key=key,
                                             in_channels=in_channels, out_channels=in_channels)
            if hasattr(self, name):
                raise UserError(f"{key}: a second plugin named {name!r} in one block; give "
                                f"it a 'postfix'")
            self.add_module(name, layer)
            names.append(name)
        return names

    def forward_plugin(self, x: torch.Tensor, plugin_names: Sequence[str]) -> torch.Tensor:
        out = x
        for name in plugin_names:
            # as MMOCR: every plugin sees the block's input, the last one's output is kept
            out = getattr(self, name)(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_plugins:
            x = self.forward_plugin(x, self.before_conv1_plugin_names)
        residual = x
        out = self.relu(self.bn1(self.conv1(x)))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv1_plugin_names)
        out = self.bn2(self.conv2(out))
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_conv2_plugin_names)
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        out = self.relu(out)
        if self.with_plugins:
            out = self.forward_plugin(out, self.after_shortcut_plugin_names)
        return out


class Bottleneck(nn.Module):
    """1x1-3x3-1x1 bottleneck with an optional strided 1x1 shortcut (MMOCR's textrecog one)."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: bool = False):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        if downsample:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * self.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * self.expansion))
        else:
            self.downsample = nn.Sequential()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += residual
        return self.relu(out)

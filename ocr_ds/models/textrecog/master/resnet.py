"""MMOCR 0.6.3's recognition ``ResNet`` (``mmocr/models/textrecog/backbones/resnet.py``): MASTER's
backbone, ``type='ResNet'`` in MMOCR's recognition configs (mmdet's detection ResNet is
``'mmdet.ResNet'``, :mod:`ocr_ds.models.common.resnet`).

A stem of 3x3 ConvModules (``stem_channels``), then stages of textrecog ``BasicBlock``s
(``layer1``...), each stage wrapped in *stage plugins*: ``plugins=[dict(cfg=dict(type=...),
stages=(True, False, ...), position='before_stage'|'after_stage'), ...]``, built with
``in_channels = out_channels = arch_channels[stage]`` and named mmcv's way
(``maxpool2d_before_stage_1``, ``conv_block_after_stage_1``). ``block_cfgs`` go to every block
(MASTER's GCAModule plugin at ``after_conv2``). A stage whose stride or width changes gets a 1x1
ConvModule shortcut (``layer1.0.downsample.conv``, ``.bn``).

Initialisation is MMOCR's effective one: the ``init_cfg`` (Xavier for Conv2d, 1 for
BatchNorm2d by default; MASTER's config: Kaiming) reaches every conv, GCA's included; then the
stem's and the stage plugins' ConvModules re-run their own Kaiming init (their parents are
mmcv-style ``Sequential`` / the backbone itself), while the blocks' shortcut ConvModules keep
the ``init_cfg``'s (a plain-``nn.Module`` block hides them from the walk).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.common.base import BaseModule, Sequential
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.ocr_blocks import BasicBlock
from ocr_ds.models.common.plugin import build_plugin_layer

KEY = "model.backbone"


def _ints(value: Any, key: str) -> list[int]:
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise bad_value(f"{KEY}.{key}", value, "a list of integers")
    return list(value)


def _strides(value: Any) -> list[Any]:
    ok = isinstance(value, (list, tuple)) and value and (
        all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        or all(isinstance(v, tuple) and len(v) == 2 for v in value))
    if not ok:
        raise bad_value(f"{KEY}.strides", value, "a list of integers or of (h, w) tuples")
    return list(value)


class ResNet(BaseModule):
    """ResNet for text recognition.

    Args:
        in_channels: Input image channels.
        stem_channels: Channels of each stem ConvModule (an int for one).
        block_cfgs: ``dict(type='BasicBlock', **block arguments)`` (e.g. ``plugins``).
        arch_layers: Blocks per stage.
        arch_channels: Channels per stage.
        strides: Stride (int or ``(h, w)``) of each stage's first block.
        out_indices: Stages whose outputs are returned as a tuple; None (or empty) returns
            the last map. Defaults to None.
        plugins: Stage plugins (see the module docstring). Defaults to None.
        init_cfg: Defaults to Xavier for Conv2d and 1 for BatchNorm2d.
    """

    def __init__(self, in_channels: int, stem_channels: int | Sequence[int],
                 block_cfgs: Mapping[str, Any], arch_layers: Sequence[int],
                 arch_channels: Sequence[int], strides: Sequence[Any],
                 out_indices: Sequence[int] | None = None,
                 plugins: Sequence[Mapping[str, Any]] | None = None,
                 init_cfg: Any = [dict(type="Xavier", layer="Conv2d"),  # noqa: B006 (MMOCR's)
                                  dict(type="Constant", val=1, layer="BatchNorm2d")]):
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, int) or isinstance(in_channels, bool):
            raise bad_value(f"{KEY}.in_channels", in_channels, "an integer")
        if not isinstance(stem_channels, int) or isinstance(stem_channels, bool):
            stem_channels = _ints(stem_channels, "stem_channels")
        arch_layers = _ints(arch_layers, "arch_layers")
        arch_channels = _ints(arch_channels, "arch_channels")
        strides = _strides(strides)
        if not len(arch_layers) == len(arch_channels) == len(strides):
            raise UserError(f"{KEY}: arch_layers, arch_channels and strides must have one entry "
                            f"per stage (got {len(arch_layers)}, {len(arch_channels)}, "
                            f"{len(strides)})")
        if out_indices is not None and not isinstance(out_indices, (list, tuple)):
            raise bad_value(f"{KEY}.out_indices", out_indices, "None or a list of stages")
        if not isinstance(block_cfgs, Mapping) or block_cfgs.get("type") != "BasicBlock":
            raise bad_value(f"{KEY}.block_cfgs", block_cfgs, "dict(type='BasicBlock', ...)")
        self.out_indices = out_indices
        self._make_stem_layer(in_channels, stem_channels)
        self.num_stages = len(arch_layers)
        self.use_plugins = plugins is not None
        self.arch_channels = arch_channels
        self.res_layers: list[str] = []
        if self.use_plugins:
            plugins = self._check_plugins(plugins)
            self.plugin_ahead_names: list[list[str]] = []
            self.plugin_after_names: list[list[str]] = []
        for i, num_blocks in enumerate(arch_layers):
            # a stage's plugins are built before its blocks (MMOCR's order of random draws)
            if self.use_plugins:
                self._make_stage_plugins(plugins, stage_idx=i)
            res_layer = self._make_layer(block_cfgs, self.inplanes, arch_channels[i],
                                         num_blocks, strides[i])
            self.inplanes = arch_channels[i]
            self.add_module(f"layer{i + 1}", res_layer)
            self.res_layers.append(f"layer{i + 1}")

    def _check_plugins(self, plugins: Any) -> list[dict]:
        if not isinstance(plugins, (list, tuple)):
            raise bad_value(f"{KEY}.plugins", plugins, "a list of plugin dicts")
        for i, plugin in enumerate(plugins):
            key = f"{KEY}.plugins.{i}"
            if not isinstance(plugin, Mapping) or not isinstance(plugin.get("cfg"), Mapping):
                raise bad_value(key, plugin, "dict(cfg=dict(type=...), stages=..., position=...)")
            stages = plugin.get("stages")
            if not isinstance(stages, (list, tuple)) or len(stages) != self.num_stages:
                raise bad_value(f"{key}.stages", stages,
                                f"{self.num_stages} booleans, one per stage")
            if plugin.get("position") not in ("before_stage", "after_stage"):
                raise bad_value(f"{key}.position", plugin.get("position"),
                                "'before_stage' or 'after_stage'")
        return [dict(p) for p in plugins]

    def _make_layer(self, block_cfgs: Mapping[str, Any], inplanes: int, planes: int,
                    blocks: int, stride: Any) -> Sequential:
        block_args = dict(block_cfgs)
        block_args.pop("type")
        block_args.setdefault("plugins_key", f"{KEY}.block_cfgs.plugins")
        if isinstance(stride, int):
            stride = (stride, stride)
        downsample = None
        if stride[0] != 1 or stride[1] != 1 or inplanes != planes:
            downsample = ConvModule(inplanes, planes, 1, stride, norm_cfg=dict(type="BN"),
                                    act_cfg=None)
        try:
            layers = [BasicBlock(inplanes, planes, stride=stride, downsample=downsample,
                                 **block_args)]
            layers += [BasicBlock(planes, planes, **block_args) for _ in range(1, blocks)]
        except TypeError as exc:
            raise UserError(f"{KEY}.block_cfgs: BasicBlock: {exc}") from None
        return Sequential(*layers)

    def _make_stem_layer(self, in_channels: int, stem_channels: int | list[int]) -> None:
        if isinstance(stem_channels, int):
            stem_channels = [stem_channels]
        layers = []
        for channels in stem_channels:
            layers.append(ConvModule(in_channels, channels, kernel_size=3, stride=1, padding=1,
                                     bias=False, norm_cfg=dict(type="BN"),
                                     act_cfg=dict(type="ReLU")))
            in_channels = channels
        self.stem_layers = Sequential(*layers)
        self.inplanes = stem_channels[-1]

    def _make_stage_plugins(self, plugins: list[dict], stage_idx: int) -> None:
        channels = self.arch_channels[stage_idx]
        self.plugin_ahead_names.append([])
        self.plugin_after_names.append([])
        for i, plugin in enumerate(plugins):
            if not plugin["stages"][stage_idx]:
                continue
            where = plugin["position"]
            name, layer = build_plugin_layer(plugin["cfg"], f"_{where}_{stage_idx + 1}",
                                             key=f"{KEY}.plugins.{i}.cfg",
                                             in_channels=channels, out_channels=channels)
            names = self.plugin_ahead_names if where == "before_stage" else \
                self.plugin_after_names
            names[stage_idx].append(name)
            self.add_module(name, layer)

    @staticmethod
    def _run(module: nn.Module, x: torch.Tensor, names: Sequence[str]) -> torch.Tensor:
        for name in names:
            x = getattr(module, name)(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        x = self.stem_layers(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            if self.use_plugins:
                x = self._run(self, x, self.plugin_ahead_names[i])
            x = getattr(self, layer_name)(x)
            if self.use_plugins:
                x = self._run(self, x, self.plugin_after_names[i])
            if self.out_indices and i in self.out_indices:
                outs.append(x)
        return tuple(outs) if self.out_indices else x

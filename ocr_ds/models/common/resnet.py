"""mmdet 2.28's ResNet (``type='mmdet.ResNet'`` in MMOCR configs): names, init and behaviour.

The module tree is mmdet's, so MMOCR checkpoints load key for key and torchvision's ImageNet
weights load as they are (``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``,
...): blocks and stages are :class:`~ocr_ds.models.common.base.BaseModule` /
:class:`~ocr_ds.models.common.base.Sequential`, norms are named by ``build_norm_layer``
(``bn1``, ``gn2``, ...; ``norm1``/``norm2``/``norm3`` are properties), convs come from
``build_conv_layer`` (``conv_cfg``), and the 3x3 conv of a bottleneck in a stage with
``stage_with_dcn`` is built from ``dcn`` (``dict(type='DCNv2', deform_groups=1)``, see
:mod:`.dcn`).

Initialisation is mmdet's ``init_cfg`` walk: without an ``init_cfg``, Kaiming normal (fan_out)
for every ``Conv2d`` (a DCN's ``conv_offset`` too), 1/0 for norms, then each block zeroes its
last norm (``zero_init_residual``), then the DCN layers re-initialise themselves (uniform
weight, zero offsets), as mmcv's walk calls their ``init_weights``. ``init_cfg=dict(type=
'Pretrained', checkpoint=PATH)`` (or ``pretrained=PATH``) loads a local file when
``init_weights()`` runs; ``torchvision://resnetNN`` is the file mmcv 1.7 loads for it (e.g.
``$TORCH_HOME/hub/checkpoints/resnet50-0676ba61.pth``), downloaded when missing
(:func:`ocr_ds.models.common.init.resolve_checkpoint`).

``base_channels``/``stem_channels`` scale the widths (the CPU demos use 16 or 32). Plugins
(mmdet's ``plugins=``; no MMOCR config gives them to this ResNet) are refused.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential
from ocr_ds.models.common.conv_module import build_conv_layer
from ocr_ds.models.common.init import load_pretrained
from ocr_ds.models.common.norm import build_norm_layer

_KEY = "model.backbone"


class BasicBlock(BaseModule):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, style: str = "pytorch",
                 with_cp: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping = {"type": "BN"}, dcn: Mapping | None = None,  # noqa: B006
                 plugins: Any = None, init_cfg: Any = None):
        super().__init__(init_cfg)
        if dcn is not None:
            raise UserError(f"{_KEY}.dcn: deformable convolution needs a Bottleneck ResNet "
                            f"(depth 50, 101 or 152), as in mmdet (got a BasicBlock depth)")
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1,
                                                  key=f"{_KEY}.norm_cfg")
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2,
                                                  key=f"{_KEY}.norm_cfg")
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 3, stride=stride,
                                      padding=dilation, dilation=dilation, bias=False,
                                      key=f"{_KEY}.conv_cfg")
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=1, bias=False,
                                      key=f"{_KEY}.conv_cfg")
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride
        self.dilation = dilation
        self.with_cp = with_cp

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.norm2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._inner, x, use_reentrant=False)
        else:
            out = self._inner(x)
        return self.relu(out)


class Bottleneck(BaseModule):
    """1x1 -> 3x3 -> 1x1; ``style='pytorch'`` strides the 3x3 conv, ``'caffe'`` the first 1x1."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: nn.Module | None = None, style: str = "pytorch",
                 with_cp: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping = {"type": "BN"}, dcn: dict | None = None,  # noqa: B006
                 plugins: Any = None, init_cfg: Any = None):
        super().__init__(init_cfg)
        self.inplanes, self.planes = inplanes, planes
        self.stride, self.dilation, self.style = stride, dilation, style
        self.with_cp = with_cp
        self.conv_cfg, self.norm_cfg = conv_cfg, norm_cfg
        self.dcn = dcn
        self.with_dcn = dcn is not None
        self.conv1_stride, self.conv2_stride = (1, stride) if style == "pytorch" else (stride, 1)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1,
                                                  key=f"{_KEY}.norm_cfg")
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2,
                                                  key=f"{_KEY}.norm_cfg")
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, planes * self.expansion, postfix=3,
                                                  key=f"{_KEY}.norm_cfg")
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, kernel_size=1,
                                      stride=self.conv1_stride, bias=False,
                                      key=f"{_KEY}.conv_cfg")
        self.add_module(self.norm1_name, norm1)
        fallback_on_stride = False
        if self.with_dcn:
            # mmdet pops this from the dcn dict every block shares, so only the first DCN
            # block of the network sees it: kept so, for the same module tree as mmdet
            fallback_on_stride = dcn.pop("fallback_on_stride", False)
        if not self.with_dcn or fallback_on_stride:
            self.conv2 = build_conv_layer(conv_cfg, planes, planes, kernel_size=3,
                                          stride=self.conv2_stride, padding=dilation,
                                          dilation=dilation, bias=False,
                                          key=f"{_KEY}.conv_cfg")
        else:
            if conv_cfg is not None:
                raise UserError(f"{_KEY}.conv_cfg: must be None with dcn, as in mmdet "
                                f"(got {conv_cfg!r})")
            self.conv2 = build_conv_layer(dcn, planes, planes, kernel_size=3,
                                          stride=self.conv2_stride, padding=dilation,
                                          dilation=dilation, bias=False, key=f"{_KEY}.dcn")
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(conv_cfg, planes, planes * self.expansion, kernel_size=1,
                                      bias=False, key=f"{_KEY}.conv_cfg")
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    @property
    def norm3(self) -> nn.Module:
        return getattr(self, self.norm3_name)

    def _inner(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.norm1(self.conv1(x)))
        out = self.relu(self.norm2(self.conv2(out)))
        out = self.norm3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._inner, x, use_reentrant=False)
        else:
            out = self._inner(x)
        return self.relu(out)


class ResLayer(Sequential):
    """One stage: ``num_blocks`` blocks, the first with the stride and the downsample branch
    (1x1 conv + norm; with ``avg_down`` an average pool does the striding first)."""

    def __init__(self, block: type, inplanes: int, planes: int, num_blocks: int,
                 stride: int = 1, avg_down: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping = {"type": "BN"}, **kwargs: Any):  # noqa: B006
        self.block = block
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            layers: list[nn.Module] = []
            conv_stride = stride
            if avg_down:
                conv_stride = 1
                layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True,
                                           count_include_pad=False))
            layers += [build_conv_layer(conv_cfg, inplanes, planes * block.expansion,
                                        kernel_size=1, stride=conv_stride, bias=False,
                                        key=f"{_KEY}.conv_cfg"),
                       build_norm_layer(norm_cfg, planes * block.expansion,
                                        key=f"{_KEY}.norm_cfg")[1]]
            downsample = nn.Sequential(*layers)
        blocks = [block(inplanes=inplanes, planes=planes, stride=stride, downsample=downsample,
                        conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs)]
        for _ in range(1, num_blocks):
            blocks.append(block(inplanes=planes * block.expansion, planes=planes, stride=1,
                                conv_cfg=conv_cfg, norm_cfg=norm_cfg, **kwargs))
        super().__init__(*blocks)


ARCH = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


def _check(cond: bool, key: str, expected: str, got: Any) -> None:
    if not cond:
        raise UserError(f"{_KEY}.{key}: expected {expected} (got {got!r})")


class ResNet(BaseModule):
    """mmdet's ResNet: the feature maps of the stages in ``out_indices`` (C2..C5 by default).

    Args (mmdet's, with its defaults): depth (18/34/50/101/152), in_channels=3,
    stem_channels=None (= base_channels), base_channels=64, num_stages=4,
    strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1), out_indices=(0, 1, 2, 3), style='pytorch'
    or 'caffe', deep_stem=False (three 3x3 convs as stem), avg_down=False (average-pool
    downsampling), frozen_stages=-1, conv_cfg=None, norm_cfg=dict(type='BN',
    requires_grad=True), norm_eval=True (BN statistics frozen in training), dcn=None,
    stage_with_dcn=(False,)*4, plugins=None (refused), with_cp=False (activation
    checkpointing per block), zero_init_residual=True, pretrained=None (deprecated path),
    init_cfg=None.
    """

    arch_settings = ARCH

    def __init__(self, depth: int, in_channels: int = 3, stem_channels: int | None = None,
                 base_channels: int = 64, num_stages: int = 4,
                 strides: Sequence[int] = (1, 2, 2, 2), dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3), style: str = "pytorch",
                 deep_stem: bool = False, avg_down: bool = False, frozen_stages: int = -1,
                 conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping = {"type": "BN", "requires_grad": True},  # noqa: B006
                 norm_eval: bool = True, dcn: Mapping | None = None,
                 stage_with_dcn: Sequence[bool] = (False, False, False, False),
                 plugins: Any = None, with_cp: bool = False, zero_init_residual: bool = True,
                 pretrained: str | None = None, init_cfg: Any = None):
        super().__init__(init_cfg)
        _check(depth in ARCH, "depth", f"one of {sorted(ARCH)}", depth)
        _check(not (init_cfg and pretrained), "pretrained",
               "None when init_cfg is given (mmdet: not both)", pretrained)
        _check(style in ("pytorch", "caffe"), "style", "'pytorch' or 'caffe'", style)
        _check(isinstance(num_stages, int) and 1 <= num_stages <= 4, "num_stages", "1..4",
               num_stages)
        _check(len(strides) >= num_stages and len(dilations) >= num_stages
               and len(strides) == len(dilations), "strides",
               f"strides and dilations of {num_stages} stages each", (strides, dilations))
        _check(len(out_indices) > 0 and max(out_indices) < num_stages, "out_indices",
               f"stage indices below num_stages={num_stages}", tuple(out_indices))
        if plugins is not None:
            raise UserError(f"{_KEY}.plugins: ResNet plugins are not supported (no MMOCR "
                            f"0.6.3 config uses them with mmdet.ResNet); expected None "
                            f"(got {plugins!r})")
        if dcn is not None:
            _check(isinstance(dcn, Mapping) and "type" in dcn, "dcn",
                   "None or a dict with a 'type' key", dcn)
            _check(len(stage_with_dcn) == num_stages, "stage_with_dcn",
                   f"{num_stages} booleans (one per stage)", stage_with_dcn)
        self.zero_init_residual = zero_init_residual
        block_init_cfg = None
        if isinstance(pretrained, str):
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained)
        elif pretrained is not None:
            raise UserError(f"{_KEY}.pretrained: expected a path or None (got {pretrained!r})")
        elif init_cfg is None:
            self.init_cfg = [dict(type="Kaiming", layer="Conv2d"),
                             dict(type="Constant", val=1, layer=["_BatchNorm", "GroupNorm"])]
            if zero_init_residual:
                last = "norm2" if ARCH[depth][0] is BasicBlock else "norm3"
                block_init_cfg = dict(type="Constant", val=0, override=dict(name=last))

        self.depth = depth
        self.stem_channels = base_channels if stem_channels is None else stem_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.strides, self.dilations = strides, dilations
        self.out_indices = out_indices
        self.style = style
        self.deep_stem, self.avg_down = deep_stem, avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg, self.norm_cfg = conv_cfg, norm_cfg
        self.with_cp = with_cp
        self.norm_eval = norm_eval
        # one copy shared by every block, as mmdet shares the config's dict (see Bottleneck)
        self.dcn = None if dcn is None else copy.deepcopy(dict(dcn))
        self.stage_with_dcn = stage_with_dcn
        self.plugins = plugins
        self.block, stage_blocks = ARCH[depth]
        self.stage_blocks = stage_blocks[:num_stages]
        self.inplanes = self.stem_channels
        self._make_stem_layer(in_channels, self.stem_channels)

        self.res_layers: list[str] = []
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            layer = ResLayer(
                block=self.block, inplanes=self.inplanes, planes=planes, num_blocks=num_blocks,
                stride=strides[i], dilation=dilations[i], style=style, avg_down=avg_down,
                with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                dcn=self.dcn if self.stage_with_dcn[i] else None, plugins=None,
                init_cfg=block_init_cfg)
            self.inplanes = planes * self.block.expansion
            self.add_module(f"layer{i + 1}", layer)
            self.res_layers.append(f"layer{i + 1}")
        self._freeze_stages()
        self.feat_dim = self.block.expansion * base_channels * 2**(len(self.stage_blocks) - 1)

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    def init_weights(self) -> None:
        """mmcv's walk; a ``Pretrained`` init_cfg loads its file and ends it (errors name
        ``model.backbone.init_cfg``)."""
        cfg = self.init_cfg
        if isinstance(cfg, Mapping) and cfg.get("type") == "Pretrained" and not self.is_init:
            load_pretrained(self, cfg, f"{_KEY}.init_cfg")
            return
        super().init_weights()

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        def conv(cin: int, cout: int, k: int, s: int, p: int) -> nn.Module:
            return build_conv_layer(self.conv_cfg, cin, cout, kernel_size=k, stride=s,
                                    padding=p, bias=False, key=f"{_KEY}.conv_cfg")

        def norm(ch: int) -> nn.Module:
            return build_norm_layer(self.norm_cfg, ch, key=f"{_KEY}.norm_cfg")[1]

        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                conv(in_channels, half, 3, 2, 1), norm(half), nn.ReLU(inplace=True),
                conv(half, half, 3, 1, 1), norm(half), nn.ReLU(inplace=True),
                conv(half, stem_channels, 3, 1, 1), norm(stem_channels), nn.ReLU(inplace=True))
        else:
            self.conv1 = conv(in_channels, stem_channels, 7, 2, 3)
            self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1,
                                                      key=f"{_KEY}.norm_cfg")
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _freeze_stages(self) -> None:
        if self.frozen_stages >= 0:
            if self.deep_stem:
                self.stem.eval()
                for p in self.stem.parameters():
                    p.requires_grad = False
            else:
                self.norm1.eval()
                for m in (self.conv1, self.norm1):
                    for p in m.parameters():
                        p.requires_grad = False
        for i in range(1, self.frozen_stages + 1):
            m = getattr(self, f"layer{i}")
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> "ResNet":
        """Train mode, keeping frozen stages and (``norm_eval``) every BN in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

"""MMOCR 0.6.3's recognition plugin layers (``mmocr/models/textrecog/plugins/common.py``).

* ``GCAModule``: MASTER's global context attention, inserted into every ``BasicBlock`` of its
  ResNet (``block_cfgs=dict(type='BasicBlock', plugins=dict(cfg=dict(type='GCAModule', ...),
  position='after_conv2'))``): a context vector pooled over the whole map (softmax attention
  per head, or the mean), transformed by a 1x1 conv bottleneck, fused back into every pixel.
* ``Maxpool2d``: ``nn.MaxPool2d`` as a stage plugin (child ``model``, no parameters).

Both are plain ``nn.Module``s as in MMOCR, so their convs keep what the backbone's ``init_cfg``
gives them. Built through :func:`ocr_ds.models.common.plugin.build_plugin_layer`, which turns
the ``ValueError``s below into one-line config errors under the plugin's key path.

One deliberate difference: ``scale_attn=True`` with several heads divides the attention logits
by ``sqrt(C / n_head)``; MMOCR 0.6.3 raises there (``torch.sqrt`` of an int).
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

_POOLING = ("avg", "att")
_FUSION = ("channel_add", "channel_mul", "channel_concat")


class Maxpool2d(nn.Module):
    """``nn.MaxPool2d(kernel_size, stride, padding)`` under the child name ``model``."""

    def __init__(self, kernel_size: Any, stride: Any, padding: Any = 0, **kwargs: Any):
        super().__init__()
        self.model = nn.MaxPool2d(kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


def _bottleneck(in_channels: int, planes: int) -> nn.Sequential:
    # torch's Sequential, as MMOCR: keys channel_add_conv.0.weight, .1.weight (the LayerNorm)
    return nn.Sequential(nn.Conv2d(in_channels, planes, kernel_size=1),
                         nn.LayerNorm([planes, 1, 1]), nn.ReLU(inplace=True),
                         nn.Conv2d(planes, in_channels, kernel_size=1))


class GCAModule(nn.Module):
    """Global context attention (MASTER).

    Args:
        in_channels: Channels of the input map :math:`C` (given by the block).
        ratio: Bottleneck width as a fraction of ``in_channels``.
        n_head: Attention heads; must divide ``in_channels``.
        pooling_type: ``'att'`` (softmax attention per head) or ``'avg'``. Defaults to 'att'.
        scale_attn: Divide the attention logits by ``sqrt(C / n_head)`` when ``n_head > 1``.
            Defaults to False.
        fusion_type: ``'channel_add'``, ``'channel_mul'`` or ``'channel_concat'``. Defaults to
            'channel_add'.
        **kwargs: Ignored, as in MMOCR (its config passes ``is_att_scale``; the block passes
            ``out_channels``).
    """

    def __init__(self, in_channels: int, ratio: float, n_head: int, pooling_type: str = "att",
                 scale_attn: bool = False, fusion_type: str = "channel_add", **kwargs: Any):
        super().__init__()
        if pooling_type not in _POOLING:
            raise ValueError(f"pooling_type: expected one of {_POOLING} (got {pooling_type!r})")
        if fusion_type not in _FUSION:
            raise ValueError(f"fusion_type: expected one of {_FUSION} (got {fusion_type!r})")
        if not isinstance(n_head, int) or isinstance(n_head, bool) or n_head < 1 \
                or in_channels % n_head:
            raise ValueError(f"n_head: expected a positive divisor of the block's "
                             f"{in_channels} channels (got {n_head!r})")
        if in_channels < 8:
            raise ValueError(f"in_channels: expected at least 8 (got {in_channels!r})")
        if not isinstance(ratio, (int, float)) or isinstance(ratio, bool) \
                or int(in_channels * ratio) < 1:
            raise ValueError(f"ratio: expected a fraction leaving at least one of the "
                             f"{in_channels} channels (got {ratio!r})")
        self.n_head = n_head
        self.in_channels = in_channels
        self.ratio = ratio
        self.planes = int(in_channels * ratio)
        self.pooling_type = pooling_type
        self.fusion_type = fusion_type
        self.scale_attn = scale_attn
        self.single_header_inplanes = int(in_channels / n_head)
        if pooling_type == "att":
            self.conv_mask = nn.Conv2d(self.single_header_inplanes, 1, kernel_size=1)
            self.softmax = nn.Softmax(dim=2)
        else:
            self.avg_pool = nn.AdaptiveAvgPool2d(1)
        # built in MMOCR's order (a seeded build draws the same weights)
        if fusion_type == "channel_add":
            self.channel_add_conv = _bottleneck(in_channels, self.planes)
        elif fusion_type == "channel_concat":
            self.channel_concat_conv = _bottleneck(in_channels, self.planes)
            self.cat_conv = nn.Conv2d(2 * in_channels, in_channels, kernel_size=1)
        else:
            self.channel_mul_conv = _bottleneck(in_channels, self.planes)

    def spatial_pool(self, x: torch.Tensor) -> torch.Tensor:
        """The ``(N, C, 1, 1)`` context: per head, the attention-weighted sum over pixels."""
        batch, _, height, width = x.size()
        if self.pooling_type == "avg":
            return self.avg_pool(x)
        heads, per_head = batch * self.n_head, self.single_header_inplanes
        x = x.view(heads, per_head, height, width)
        values = x.view(heads, per_head, height * width).unsqueeze(1)
        logits = self.conv_mask(x).view(heads, 1, height * width)
        if self.scale_attn and self.n_head > 1:
            logits = logits / math.sqrt(per_head)
        weights = self.softmax(logits).unsqueeze(-1)
        # (N*h, 1, C', HW) @ (N*h, 1, HW, 1) -> (N*h, 1, C', 1)
        context = torch.matmul(values, weights)
        return context.view(batch, self.n_head * per_head, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        context = self.spatial_pool(x)
        if self.fusion_type == "channel_mul":
            return x * torch.sigmoid(self.channel_mul_conv(context))
        if self.fusion_type == "channel_add":
            return x + self.channel_add_conv(context)
        term = self.channel_concat_conv(context)
        _, _, height, width = x.shape
        out = self.cat_conv(torch.cat([x, term.expand(-1, -1, height, width)], dim=1))
        out = F.layer_norm(out, [self.in_channels, height, width])
        return F.relu(out)

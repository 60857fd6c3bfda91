"""Deformable convolutions with mmcv 1.x's names: ``'DCNv2'`` (modulated) and ``'DCN'`` (v1).

MMOCR's R50-DCNv2 backbones build their 3x3 convs with ``dcn=dict(type='DCNv2',
deform_groups=1)``: mmcv's ``ModulatedDeformConv2dPack``, whose state-dict keys are ``weight``,
``bias`` (when asked for) and ``conv_offset.weight``/``conv_offset.bias``, the conv that predicts
the offsets and masks from the input (zero at init, so a fresh layer is a plain conv).

The arithmetic (:func:`deform_conv2d`) is that of mmcv's kernel: every kernel tap samples the
input bilinearly at ``(ho*stride - pad + i*dilation + dy, wo*stride - pad + j*dilation + dx)``,
corners outside the image read zero and a point at or beyond one pixel outside (``<= -1`` or
``>= size``) is zero with zero gradient; the sample is multiplied by the tap's mask, and the
columns go through one matrix product with the weight.

Two kernels compute it, picked per call:

* ``torchvision.ops.deform_conv2d`` -- compiled, CPU and CUDA -- when a torchvision whose
  compiled ops load beside this torch is installed (not a dependency: install the torchvision
  that matches your torch build to get it).
* otherwise plain PyTorch (:func:`deform_conv2d_torch`): the four bilinear corners of every
  sample are gathered and weighted by one ``F.embedding_bag`` (fused, with native gradients),
  then one batched matrix product with the weight; any device, nothing compiled. On a CPU it
  costs about ten plain 3x3 convs of the same size.

``OCR_DS_DCN_KERNEL=torch`` (or ``torchvision``) forces a kernel; :func:`kernel_name` says which
one a call uses. Under autocast the deformable part runs in fp32 (sampling positions in half
precision would be off by a large fraction of a pixel) and returns the offsets' dtype, as mmcv.
"""
from __future__ import annotations

import functools
import math
import os
from typing import Callable, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.utils import _pair, _single

from ocr_ds.errors import UserError

_ENV = "OCR_DS_DCN_KERNEL"


@functools.lru_cache(maxsize=None)
def _torchvision_op() -> Callable | None:
    """``torchvision.ops.deform_conv2d`` if torchvision imports and its compiled op runs."""
    try:
        from torchvision.ops import deform_conv2d as op
        op(torch.zeros(1, 1, 3, 3), torch.zeros(1, 18, 1, 1), torch.zeros(1, 1, 3, 3),
           mask=torch.ones(1, 9, 1, 1))
        return op
    except Exception:           # not installed, or a build whose _C does not load here
        return None


def kernel_name() -> str:
    """``'torchvision'`` or ``'torch'``: the kernel :func:`deform_conv2d` uses now."""
    forced = os.environ.get(_ENV, "auto")
    if forced not in ("auto", "torch", "torchvision"):
        raise UserError(f"{_ENV}: expected auto, torch or torchvision (got {forced!r})")
    if forced == "torch":
        return "torch"
    if _torchvision_op() is not None:
        return "torchvision"
    if forced == "torchvision":
        raise UserError(f"{_ENV}=torchvision: torchvision's deform_conv2d does not load here; "
                        f"install the torchvision that matches this torch, or unset {_ENV}")
    return "torch"


def _output_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    return (size + 2 * pad - (dilation * (kernel - 1) + 1)) // stride + 1


def _sample(x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
            kernel: tuple[int, int], stride: tuple[int, int], padding: tuple[int, int],
            dilation: tuple[int, int], deform_groups: int, out_hw: tuple[int, int]
            ) -> torch.Tensor:
    """The modulated bilinear samples ("columns"), ``(N, dg, K, Ho*Wo, C/dg)``.

    Each sample is a weighted sum of four input pixels; ``F.embedding_bag`` over the input laid
    out channels-last does that gather-and-sum in one fused op whose gradients (to the input
    and to the corner weights, hence to offsets and masks) are native: the backward keeps the
    indices and weights, not four copies of the columns.
    """
    n, c, h, w = x.shape
    kh, kw = kernel
    ho, wo = out_hw
    k = kh * kw
    dg = deform_groups
    dev, dt = x.device, x.dtype
    ky = (torch.arange(kh, device=dev, dtype=dt) * dilation[0]).repeat_interleave(kw)
    kx = (torch.arange(kw, device=dev, dtype=dt) * dilation[1]).repeat(kh)
    oy = torch.arange(ho, device=dev, dtype=dt) * stride[0] - padding[0]
    ox = torch.arange(wo, device=dev, dtype=dt) * stride[1] - padding[1]
    off = offset.reshape(n, dg, k, 2, ho, wo)
    py = (ky.view(k, 1, 1) + oy.view(1, ho, 1)) + off[:, :, :, 0]      # (N, dg, K, Ho, Wo)
    px = (kx.view(k, 1, 1) + ox.view(1, 1, wo)) + off[:, :, :, 1]
    # mmcv's kernel: a point at/after one pixel outside reads 0 and passes no gradient
    inside = ((py > -1) & (px > -1) & (py < h) & (px < w)).to(dt)
    y0, x0 = torch.floor(py), torch.floor(px)
    ly, lx = py - y0, px - x0
    hy, hx = 1 - ly, 1 - lx
    scale = inside if mask is None else inside * mask.reshape(n, dg, k, ho, wo)
    y0l, x0l = y0.long(), x0.long()
    plane = torch.arange(n * dg, device=dev).view(n, dg, 1, 1, 1) * (h * w)
    idx, wts = [], []
    for dy, dx, wt in ((0, 0, hy * hx), (0, 1, hy * lx), (1, 0, ly * hx), (1, 1, ly * lx)):
        yi, xi = y0l + dy, x0l + dx
        valid = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)   # corners outside read zero
        idx.append(plane + yi.clamp(0, h - 1) * w + xi.clamp(0, w - 1))
        wts.append(wt * scale * valid.to(dt))
    cg = c // dg
    table = x.reshape(n, dg, cg, h * w).transpose(2, 3).reshape(n * dg * h * w, cg)
    cols = F.embedding_bag(torch.stack(idx, -1).reshape(-1, 4), table,
                           per_sample_weights=torch.stack(wts, -1).reshape(-1, 4), mode="sum")
    return cols.reshape(n, dg, k, ho * wo, cg)


def deform_conv2d_torch(x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
                        weight: torch.Tensor, bias: torch.Tensor | None,
                        stride: Sequence[int] = (1, 1), padding: Sequence[int] = (0, 0),
                        dilation: Sequence[int] = (1, 1), groups: int = 1,
                        deform_groups: int = 1) -> torch.Tensor:
    """Modulated deformable convolution in plain PyTorch (``mask=None``: DCN v1).

    ``offset``: ``(N, 2*dg*K, Ho, Wo)``, ``(dy, dx)`` per tap; ``mask``: ``(N, dg*K, Ho, Wo)``.
    """
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, w = x.shape
    o, cin_g, kh, kw = weight.shape
    k = kh * kw
    ho = _output_size(h, kh, stride[0], padding[0], dilation[0])
    wo = _output_size(w, kw, stride[1], padding[1], dilation[1])
    if ho <= 0 or wo <= 0:
        raise ValueError(f"deform_conv2d: input {h}x{w} is too small for the kernel")
    cols = _sample(x, offset, mask, (kh, kw), stride, padding, dilation, deform_groups,
                   (ho, wo))
    # columns (N, dg, K, P, C/dg) -> (G, N*P, K*Cin_g); weight (O, Cin_g, kh, kw) ->
    # (G, K*Cin_g, O/G): one batched matrix product per conv group
    cols = cols.permute(0, 3, 2, 1, 4).reshape(n, ho * wo, k, groups, cin_g)
    cols = cols.permute(3, 0, 1, 2, 4).reshape(groups, n * ho * wo, k * cin_g)
    wmat = weight.reshape(groups, o // groups, cin_g, k).permute(0, 3, 2, 1)
    out = torch.bmm(cols, wmat.reshape(groups, k * cin_g, o // groups))   # (G, N*P, O/G)
    out = out.reshape(groups, n, ho * wo, o // groups).permute(1, 0, 3, 2)
    out = out.reshape(n, o, ho, wo)
    if bias is not None:
        out = out + bias.view(1, o, 1, 1)
    return out


def deform_conv2d(x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None,
                  weight: torch.Tensor, bias: torch.Tensor | None,
                  stride: Sequence[int] = (1, 1), padding: Sequence[int] = (0, 0),
                  dilation: Sequence[int] = (1, 1), groups: int = 1,
                  deform_groups: int = 1) -> torch.Tensor:
    """Modulated (or, ``mask=None``, plain) deformable convolution with the kernel of
    :func:`kernel_name`; computed in fp32, returned in ``offset``'s dtype (as mmcv)."""
    out_dtype = offset.dtype
    # half precision in, fp32 inside; float64 stays float64
    dtype = torch.float64 if torch.float64 in (x.dtype, offset.dtype) else torch.float32
    with torch.autocast(device_type=x.device.type, enabled=False):
        x, offset, weight = x.to(dtype), offset.to(dtype), weight.to(dtype)
        mask = None if mask is None else mask.to(dtype)
        bias = None if bias is None else bias.to(dtype)
        if kernel_name() == "torchvision":
            out = _torchvision_op()(x, offset, weight, bias, stride=_pair(stride),
                                    padding=_pair(padding), dilation=_pair(dilation),
                                    mask=mask)
        else:
            out = deform_conv2d_torch(x, offset, mask, weight, bias, stride, padding,
                                      dilation, groups, deform_groups)
    return out.to(out_dtype)


def _check_channels(in_channels: int, out_channels: int, groups: int, deform_groups: int,
                    name: str) -> None:
    for what, value in (("in_channels", in_channels), ("out_channels", out_channels)):
        if value % groups:
            raise UserError(f"{name}: {what}={value} is not divisible by groups={groups}")
    if in_channels % deform_groups:
        raise UserError(f"{name}: in_channels={in_channels} is not divisible by "
                        f"deform_groups={deform_groups}")


class ModulatedDeformConv2d(nn.Module):
    """mmcv's ``ModulatedDeformConv2d``: offsets and masks are given to ``forward``.

    Args mirror ``nn.Conv2d`` plus ``deform_groups`` (offset groups; ``deformable_groups`` is
    the old spelling). ``bias`` defaults to True. The weight is initialised uniform in
    ``+-1/sqrt(in_channels * kh * kw)``, the bias to 0 (mmcv's ``init_weights``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple,
                 stride: int | tuple = 1, padding: int | tuple = 0,
                 dilation: int | tuple = 1, groups: int = 1, deform_groups: int = 1,
                 bias: bool | str = True, deformable_groups: int | None = None):
        super().__init__()
        if deformable_groups is not None:
            deform_groups = deformable_groups
        _check_channels(in_channels, out_channels, groups, deform_groups, type(self).__name__)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.deform_groups = deform_groups
        self.transposed = False                 # what code written for nn.Conv2d looks at
        self.output_padding = _single(0)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups,
                                               *self.kernel_size))
        if bias:                                # mmcv: any truthy value, 'auto' too
            self.bias = nn.Parameter(torch.empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.init_weights()

    def init_weights(self) -> None:
        n = self.in_channels * math.prod(self.kernel_size)
        stdv = 1.0 / math.sqrt(n)
        with torch.no_grad():
            self.weight.uniform_(-stdv, stdv)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor
                ) -> torch.Tensor:
        return deform_conv2d(x, offset, mask, self.weight, self.bias, self.stride,
                             self.padding, self.dilation, self.groups, self.deform_groups)


class ModulatedDeformConv2dPack(ModulatedDeformConv2d):
    """``type='DCNv2'``: a drop-in for ``nn.Conv2d`` that predicts its own offsets and masks
    with ``conv_offset`` (``3 * deform_groups * kh * kw`` channels: dy/dx pairs, then mask
    logits), zero-initialised (mmcv's ``ModulatedDeformConv2dPack``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 3 * self.kernel_size[0] * self.kernel_size[1],
            kernel_size=self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, bias=True)
        self.init_weights()

    def init_weights(self) -> None:
        super().init_weights()
        if hasattr(self, "conv_offset"):
            nn.init.zeros_(self.conv_offset.weight)
            nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        out = self.conv_offset(x)
        o1, o2, mask = torch.chunk(out, 3, dim=1)
        offset = torch.cat((o1, o2), dim=1)
        return deform_conv2d(x, offset, torch.sigmoid(mask), self.weight, self.bias,
                             self.stride, self.padding, self.dilation, self.groups,
                             self.deform_groups)



class DeformConv2d(nn.Module):
    """mmcv's ``DeformConv2d`` (v1, no mask, no bias): offsets are given to ``forward``.

    The weight is initialised ``kaiming_uniform_(nonlinearity='relu')`` (mmcv's
    ``reset_parameters``); ``im2col_step`` is accepted and has no effect here.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | tuple,
                 stride: int | tuple = 1, padding: int | tuple = 0,
                 dilation: int | tuple = 1, groups: int = 1, deform_groups: int = 1,
                 bias: bool = False, im2col_step: int = 32,
                 deformable_groups: int | None = None):
        super().__init__()
        if bias:
            raise UserError(f"DCN: bias={bias!r} is not supported by deformable convolution "
                            f"v1 (mmcv's DeformConv2d); expected False")
        if deformable_groups is not None:
            deform_groups = deformable_groups
        _check_channels(in_channels, out_channels, groups, deform_groups, type(self).__name__)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        self.deform_groups = deform_groups
        self.im2col_step = im2col_step
        self.transposed = False
        self.output_padding = _single(0)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups,
                                               *self.kernel_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.weight, nonlinearity="relu")

    def forward(self, x: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        return deform_conv2d(x, offset, None, self.weight, None, self.stride, self.padding,
                             self.dilation, self.groups, self.deform_groups)


class DeformConv2dPack(DeformConv2d):
    """``type='DCN'``: v1 with its own zero-initialised ``conv_offset``
    (``2 * deform_groups * kh * kw`` channels). Like mmcv's, it has no ``init_weights``: an
    enclosing ``init_weights`` walk leaves what its parent's ``init_cfg`` did to it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conv_offset = nn.Conv2d(
            self.in_channels, self.deform_groups * 2 * self.kernel_size[0] * self.kernel_size[1],
            kernel_size=self.kernel_size, stride=self.stride, padding=self.padding,
            dilation=self.dilation, bias=True)
        self.init_offset()

    def init_offset(self) -> None:
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return deform_conv2d(x, self.conv_offset(x), None, self.weight, None, self.stride,
                             self.padding, self.dilation, self.groups, self.deform_groups)


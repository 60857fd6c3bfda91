"""``RoIAlignRotated`` in plain PyTorch: mmcv 1.7.2's compiled op, as DRRG uses it.

Each RoI ``(batch_index, cx, cy, w, h, angle)`` is divided into ``output_size`` bins; each bin
averages ``ceil(h / out_h) x ceil(w / out_w)`` bilinear samples (``sampling_ratio`` per side
when > 0) taken on the RoI's grid rotated by ``angle`` about its centre, with mmcv's
conventions: ``aligned`` shifts centres by half a pixel, ``clockwise`` negates the angle,
samples more than a pixel outside the map count as 0, samples just outside are clamped to the
border, a RoI without samples (zero or negative size) pools to 0. torchvision has no rotated
RoI-Align; this is written with tensor indexing so autograd gives the gradient mmcv's backward
computes (features only; none for the RoIs).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn


def _bilinear_sum(flat: torch.Tensor, size: tuple[int, int], batch: torch.Tensor,
                  y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum of bilinear samples at ``y``/``x`` ``(k, P, S)`` (P output cells, S samples each)
    of image ``batch[i]`` of ``flat`` ``(C, N * H * W)``: ``(k, C, P)``, mmcv's out-of-range
    rules. Samples are gathered from the one flat map (never a per-RoI copy of the image)."""
    h, w = size
    k = y.shape[0]
    inside = ~((y < -1.0) | (y > h) | (x < -1.0) | (x > w))
    y = y.clamp(min=0)
    x = x.clamp(min=0)
    y_low = y.long()
    x_low = x.long()
    y_edge = y_low >= h - 1
    x_edge = x_low >= w - 1
    y_low = torch.where(y_edge, torch.full_like(y_low, h - 1), y_low)
    x_low = torch.where(x_edge, torch.full_like(x_low, w - 1), x_low)
    y = torch.where(y_edge, y_low.to(y.dtype), y)
    x = torch.where(x_edge, x_low.to(x.dtype), x)
    y_high = torch.where(y_edge, y_low, y_low + 1)
    x_high = torch.where(x_edge, x_low, x_low + 1)
    ly, lx = y - y_low, x - x_low
    hy, hx = 1.0 - ly, 1.0 - lx
    mask = inside.to(flat.dtype)
    base = (batch * (h * w)).view(-1, 1, 1)
    total = 0
    for yy, xx, wgt in ((y_low, x_low, hy * hx), (y_low, x_high, hy * lx),
                        (y_high, x_low, ly * hx), (y_high, x_high, ly * lx)):
        pos = torch.where(inside, base + yy * w + xx, torch.zeros_like(yy))
        vals = flat[:, pos.reshape(-1)].reshape(flat.shape[0], *pos.shape)   # (C, k, P, S)
        total = total + (vals * (wgt * mask)[None]).sum(-1)
    return total.permute(1, 0, 2)


def roi_align_rotated(input: torch.Tensor, rois: torch.Tensor,
                      output_size: int | Sequence[int],
                      spatial_scale: float = 1.0, sampling_ratio: int = 0,
                      aligned: bool = True, clockwise: bool = False) -> torch.Tensor:
    """``(n_rois, C, out_h, out_w)`` pooled features of ``input`` ``(N, C, H, W)``."""
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    out_h, out_w = int(output_size[0]), int(output_size[1])
    n, c, h, w = input.shape
    r = rois.detach().to(device=input.device, dtype=input.dtype)
    offset = 0.5 if aligned else 0.0
    cx = r[:, 1] * spatial_scale - offset
    cy = r[:, 2] * spatial_scale - offset
    rw = r[:, 3] * spatial_scale
    rh = r[:, 4] * spatial_scale
    theta = -r[:, 5] if clockwise else r[:, 5]
    if not aligned:
        rw, rh = rw.clamp(min=1.0), rh.clamp(min=1.0)
    if sampling_ratio > 0:
        grid = [(sampling_ratio, sampling_ratio)] * len(r)
    else:
        # ceilf of the float ratio, as mmcv
        grid = list(zip(torch.ceil(rh / out_h).long().tolist(),
                        torch.ceil(rw / out_w).long().tolist()))
    out = input.new_zeros((len(r), c, out_h, out_w))
    flat = input.permute(1, 0, 2, 3).reshape(c, n * h * w)
    # RoIs with the same sampling grid are pooled together
    groups: dict[tuple[int, int], list[int]] = {}
    for i, g in enumerate(grid):
        groups.setdefault(g, []).append(i)
    for (gh, gw), members in groups.items():
        if gh <= 0 or gw <= 0:
            # no sample: 0, as mmcv's CUDA kernel gives for an empty or negative RoI (its CPU
            # code refuses negative sizes; an untrained DRRG predicts negative heights)
            continue
        idx = torch.tensor(members, device=input.device)
        bin_h = rh[idx] / out_h
        bin_w = rw[idx] / out_w
        ph = torch.arange(out_h, device=input.device, dtype=input.dtype)
        pw = torch.arange(out_w, device=input.device, dtype=input.dtype)
        iy = torch.arange(gh, device=input.device, dtype=input.dtype) + 0.5
        ix = torch.arange(gw, device=input.device, dtype=input.dtype) + 0.5
        # (k, out_h, 1, gh, 1) and (k, 1, out_w, 1, gw), in mmcv's order of operations
        bh = bin_h.view(-1, 1, 1, 1, 1)
        bw = bin_w.view(-1, 1, 1, 1, 1)
        yy = (-rh[idx] / 2.0).view(-1, 1, 1, 1, 1) + ph.view(1, -1, 1, 1, 1) * bh + \
            iy.view(1, 1, 1, -1, 1) * bh / gh
        xx = (-rw[idx] / 2.0).view(-1, 1, 1, 1, 1) + pw.view(1, 1, -1, 1, 1) * bw + \
            ix.view(1, 1, 1, 1, -1) * bw / gw
        cos = torch.cos(theta[idx]).view(-1, 1, 1, 1, 1)
        sin = torch.sin(theta[idx]).view(-1, 1, 1, 1, 1)
        y = yy * cos - xx * sin + cy[idx].view(-1, 1, 1, 1, 1)
        x = yy * sin + xx * cos + cx[idx].view(-1, 1, 1, 1, 1)
        k = len(members)
        y = y.reshape(k, out_h * out_w, gh * gw)
        x = x.reshape(k, out_h * out_w, gh * gw)
        batch = r[idx, 0].long()
        pooled = _bilinear_sum(flat, (h, w), batch, y, x) / float(gh * gw)
        out = out.index_put((idx,), pooled.reshape(k, c, out_h, out_w))
    return out


class RoIAlignRotated(nn.Module):
    """mmcv's ``RoIAlignRotated(output_size, spatial_scale, sampling_ratio=0, aligned=True,
    clockwise=False)``; ``output_size`` is ``(h, w)`` or one int."""

    def __init__(self, output_size: int | Sequence[int], spatial_scale: float,
                 sampling_ratio: int = 0, aligned: bool = True, clockwise: bool = False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = aligned
        self.clockwise = clockwise

    def forward(self, input: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return roi_align_rotated(input, rois, self.output_size, self.spatial_scale,
                                 self.sampling_ratio, self.aligned, self.clockwise)


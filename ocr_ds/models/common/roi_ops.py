"""mmcv 1.7.2's ``nms``, ``batched_nms`` and ``RoIAlign`` in plain PyTorch (no compiled ops).

ocr_ds has no compiled extension and torchvision's wheels here are CUDA builds that do not load
beside the CPU torch, so these are written out (as :mod:`.dcn` is for DCNv2):

* :func:`nms` is mmcv's greedy CPU loop (sort by score, descending; drop every later box whose
  IoU with a kept one is ``> iou_threshold``; areas without mmcv's ``+offset``, offset 0), in
  float32 numpy so each IoU is the same IEEE expression mmcv's C++ evaluates.
* :func:`roi_align` is mmcv's ``roi_align`` with ``aligned=True``, average pooling, and
  ``sampling_ratio`` samples per bin (0: ``ceil(roi_size / output_size)``, per RoI). Bilinear
  sampling with mmcv's border rules is separable in y and x, so each RoI's output is
  ``Ay @ F @ Ax^T`` over the small window of the feature map its samples touch; RoIs go in
  chunks of bounded memory. Autograd gives mmcv's backward (the adjoint of the same weights).
  Sums run in a different order than mmcv's loop: outputs agree to float32 rounding.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from ocr_ds.errors import UserError


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float,
        score_threshold: float = 0, max_num: int = -1) -> tuple[torch.Tensor, torch.Tensor]:
    """mmcv's ``nms``: ``(dets (K, 5), keep (K,))``, kept boxes by descending score."""
    inds = _nms_inds(boxes, scores, float(iou_threshold), score_threshold, max_num)
    dets = torch.cat([boxes[inds], scores[inds].reshape(-1, 1)], dim=1)
    return dets, inds


def _nms_inds(boxes: torch.Tensor, scores: torch.Tensor, thr: float, score_threshold: float,
              max_num: int) -> torch.Tensor:
    device = boxes.device
    valid = None
    if score_threshold > 0:
        valid = torch.nonzero(scores > score_threshold).squeeze(1)
        boxes, scores = boxes[valid], scores[valid]
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.long, device=device)
    order = scores.detach().sort(0, descending=True)[1]
    b = boxes.detach().float().cpu().numpy()[order.cpu().numpy()]
    x1, y1, x2, y2 = (np.ascontiguousarray(b[:, i]) for i in range(4))
    areas = (x2 - x1) * (y2 - y1)
    n = b.shape[0]
    suppressed = np.zeros(n, dtype=bool)
    zero = np.float32(0)
    for i in range(n):
        if suppressed[i]:
            continue
        rest = slice(i + 1, n)
        w = np.maximum(zero, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(zero, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        ovr = inter / (areas[i] + areas[rest] - inter)
        suppressed[rest] |= ovr > np.float32(thr)
    keep = order[torch.from_numpy(~suppressed).to(order.device)].to(device)
    if max_num > 0:
        keep = keep[:max_num]
    return keep if valid is None else valid[keep]


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor,
                nms_cfg: Mapping[str, Any] | None, class_agnostic: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """mmcv's ``batched_nms``: NMS within each ``idxs`` group (boxes of a group are shifted
    apart by ``idx * (max coordinate + 1)``, or NMS'd group by group from ``split_thr`` boxes)."""
    if nms_cfg is None:
        scores, inds = scores.sort(descending=True)
        return torch.cat([boxes[inds], scores[:, None]], -1), inds
    cfg = dict(nms_cfg)
    class_agnostic = cfg.pop("class_agnostic", class_agnostic)
    if class_agnostic:
        boxes_for_nms = boxes
    else:
        max_coordinate = boxes.max()
        offsets = idxs.to(boxes) * (max_coordinate + torch.tensor(1).to(boxes))
        boxes_for_nms = boxes + offsets[:, None]
    if cfg.pop("type", "nms") != "nms":
        raise UserError(f"nms.type: ocr_ds has 'nms' (got {nms_cfg.get('type')!r})")
    split_thr = cfg.pop("split_thr", 10000)
    if boxes_for_nms.shape[0] < split_thr:
        dets, keep = nms(boxes_for_nms, scores, **cfg)
        boxes = boxes[keep]
        scores = dets[:, -1]
    else:
        max_num = cfg.pop("max_num", -1)
        total_mask = scores.new_zeros(scores.size(), dtype=torch.bool)
        scores_after_nms = scores.new_zeros(scores.size())
        for group in torch.unique(idxs):
            mask = (idxs == group).nonzero(as_tuple=False).view(-1)
            dets, keep = nms(boxes_for_nms[mask], scores[mask], **cfg)
            total_mask[mask[keep]] = True
            scores_after_nms[mask[keep]] = dets[:, -1]
        keep = total_mask.nonzero(as_tuple=False).view(-1)
        scores, inds = scores_after_nms[keep].sort(descending=True)
        keep = keep[inds]
        boxes = boxes[keep]
        if max_num > 0:
            keep, boxes, scores = keep[:max_num], boxes[:max_num], scores[:max_num]
    return torch.cat([boxes, scores[:, None]], -1), keep


def _axis_weights(start: torch.Tensor, size: torch.Tensor, pooled: int, grid: torch.Tensor,
                  length: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-RoI sampling weights along one axis: ``(W (R, pooled, L), first (R,), span (R,))``.

    ``W[r, p, j]`` is the summed bilinear weight of feature row ``first[r] + j`` over bin
    ``p``'s ``grid[r]`` samples, divided by ``grid[r]`` (mmcv's average)."""
    r = start.shape[0]
    gmax = max(int(grid.max()), 1) if r else 1
    bin_size = size / pooled
    p = torch.arange(pooled, device=start.device, dtype=start.dtype)
    k = torch.arange(gmax, device=start.device, dtype=start.dtype)
    # mmcv: roi_start + p * bin + (k + .5) * bin / grid, in this order
    gridf = grid.to(start.dtype).clamp(min=1)
    pos = (start[:, None, None] + p[None, :, None] * bin_size[:, None, None]) + \
        (k[None, None, :] + 0.5) * bin_size[:, None, None] / gridf[:, None, None]
    valid = (k[None, None, :] < grid[:, None, None]) & (pos >= -1.0) & (pos <= length)
    pos = pos.clamp(min=0)
    low = pos.floor().long()
    top = low >= length - 1
    low = torch.where(top, torch.full_like(low, length - 1), low)
    high = torch.where(top, low, low + 1)
    pos = torch.where(top, low.to(pos.dtype), pos)
    lw = pos - low.to(pos.dtype)
    hw = 1.0 - lw
    vf = valid.to(pos.dtype) / gridf[:, None, None]
    big = torch.full_like(low, length)
    first = torch.where(valid, low, big).amin(dim=(1, 2)).clamp(max=length - 1)
    last = torch.where(valid, high, torch.zeros_like(high)).amax(dim=(1, 2))
    spans = (last - first).clamp(min=0) + 1
    span = int(spans.max()) if r else 1
    weights = start.new_zeros(r, pooled, span)
    off_low = (low - first[:, None, None]).clamp(0, span - 1)
    off_high = (high - first[:, None, None]).clamp(0, span - 1)
    weights.scatter_add_(2, off_low, hw * vf)
    weights.scatter_add_(2, off_high, lw * vf)
    return weights, first, spans


def roi_align(feat: torch.Tensor, rois: torch.Tensor, output_size: tuple[int, int],
              spatial_scale: float, sampling_ratio: int = 0,
              max_elems: int = 1 << 24) -> torch.Tensor:
    """mmcv's ``roi_align(feat, rois, output_size, spatial_scale, sampling_ratio, 'avg',
    aligned=True)``: ``(R, C, ph, pw)`` from ``(B, C, H, W)`` and rois ``(R, 5)`` =
    ``(batch index, x1, y1, x2, y2)``."""
    n_rois = rois.shape[0]
    _, c, h, w = feat.shape
    ph, pw = output_size
    out = feat.new_zeros(n_rois, c, ph, pw)
    if n_rois == 0:
        return out
    rois = rois.detach().to(feat.dtype)
    x1 = rois[:, 1] * spatial_scale - 0.5
    y1 = rois[:, 2] * spatial_scale - 0.5
    roi_w = (rois[:, 3] * spatial_scale - 0.5) - x1
    roi_h = (rois[:, 4] * spatial_scale - 0.5) - y1
    if sampling_ratio > 0:
        grid_h = torch.full((n_rois,), sampling_ratio, dtype=torch.long, device=feat.device)
        grid_w = grid_h
    else:
        grid_h = torch.ceil(roi_h / ph).long()
        grid_w = torch.ceil(roi_w / pw).long()
    wy, y0, span_y = _axis_weights(y1, roi_h, ph, grid_h, h)
    wx, x0, span_x = _axis_weights(x1, roi_w, pw, grid_w, w)
    # the window each RoI's samples touch; RoIs in chunks of similar window size
    order = torch.argsort(span_y * span_x)
    sy, sx = span_y[order].tolist(), span_x[order].tolist()
    feat_hwc = feat.permute(0, 2, 3, 1)
    batch = rois[:, 0].long()
    start = 0
    while start < n_rois:
        # grow the chunk while the window it gathers for every RoI (its tallest span by its
        # widest: a tall and a wide RoI make a large one) holds at most max_elems features
        stop, ny, nx = start + 1, sy[start], sx[start]
        while stop < n_rois:
            grown_y, grown_x = max(ny, sy[stop]), max(nx, sx[stop])
            if (stop + 1 - start) * grown_y * grown_x * c > max_elems:
                break
            stop, ny, nx = stop + 1, grown_y, grown_x
        idx = order[start:stop]
        ay, ax = wy[idx][:, :, :ny], wx[idx][:, :, :nx]
        r = idx.numel()
        rows = (y0[idx, None] + torch.arange(ny, device=feat.device)).clamp(max=h - 1)
        cols = (x0[idx, None] + torch.arange(nx, device=feat.device)).clamp(max=w - 1)
        patch = feat_hwc[batch[idx][:, None, None], rows[:, :, None], cols[:, None, :]]
        # (r, ph, ny) @ (r, ny, nx * c) -> (r, ph, nx, c); then x: (r, pw, nx) @ (r, nx, ph * c)
        t = torch.bmm(ay, patch.reshape(r, ny, nx * c)).view(r, ph, nx, c)
        t = torch.bmm(ax, t.permute(0, 2, 1, 3).reshape(r, nx, ph * c)).view(r, pw, ph, c)
        out[idx] = t.permute(0, 3, 2, 1)
        start = stop
    return out


class RoIAlign(nn.Module):
    """mmcv's ``RoIAlign`` module (``aligned=True``, ``pool_mode='avg'`` only); ``sample_num``
    is the old spelling of ``sampling_ratio`` that some MMOCR configs still use."""

    def __init__(self, output_size: int | tuple[int, int], spatial_scale: float = 1.0,
                 sampling_ratio: int = 0, pool_mode: str = "avg", aligned: bool = True,
                 use_torchvision: bool = False, sample_num: int | None = None):
        super().__init__()
        if pool_mode != "avg" or not aligned:
            raise UserError(f"RoIAlign: ocr_ds has pool_mode='avg' with aligned=True only (got "
                            f"pool_mode={pool_mode!r}, aligned={aligned!r})")
        self.output_size = (output_size, output_size) if isinstance(output_size, int) \
            else tuple(output_size)
        self.spatial_scale = float(spatial_scale)
        self.sampling_ratio = int(sample_num if sample_num is not None else sampling_ratio)

    def forward(self, feat: torch.Tensor, rois: torch.Tensor) -> torch.Tensor:
        return roi_align(feat, rois, self.output_size, self.spatial_scale, self.sampling_ratio)

"""Box arithmetic of mmdet 2.28.2 that Mask R-CNN runs on: anchors, the delta coder, IoU,
RoI packing and the per-class NMS of the second stage.

Boxes are ``(x1, y1, x2, y2)`` in pixels, widths ``x2 - x1`` (mmdet 2.x, no ``+1``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common.roi_ops import batched_nms


class AnchorGenerator:
    """mmdet's ``AnchorGenerator`` (``scales`` + ``ratios``, scale-major, centre offset 0):
    ``len(ratios) * len(scales)`` anchors of base size ``stride`` per location and level."""

    def __init__(self, strides: Sequence[int], ratios: Sequence[float],
                 scales: Sequence[float] | None = None, base_sizes: Sequence[int] | None = None,
                 scale_major: bool = True, center_offset: float = 0.0):
        if scales is None:
            raise UserError("scales: expected a list of anchor scales (ocr_ds has no "
                            "octave_base_scale/scales_per_octave) (got None)")
        if center_offset != 0:
            raise UserError(f"center_offset: ocr_ds's anchors are centred at 0 (got "
                            f"{center_offset!r})")
        self.strides = [(int(s), int(s)) if not isinstance(s, (list, tuple)) else tuple(s)
                        for s in strides]
        self.base_sizes = [min(s) for s in self.strides] if base_sizes is None else base_sizes
        self.scales = torch.Tensor(scales)
        self.ratios = torch.Tensor(ratios)
        self.scale_major = scale_major
        self.base_anchors = [self._base(size) for size in self.base_sizes]

    @property
    def num_base_priors(self) -> list[int]:
        return [a.size(0) for a in self.base_anchors]

    def _base(self, size: int) -> torch.Tensor:
        h_ratios = torch.sqrt(self.ratios)
        w_ratios = 1 / h_ratios
        if self.scale_major:
            ws = (size * w_ratios[:, None] * self.scales[None, :]).view(-1)
            hs = (size * h_ratios[:, None] * self.scales[None, :]).view(-1)
        else:
            ws = (size * self.scales[:, None] * w_ratios[None, :]).view(-1)
            hs = (size * self.scales[:, None] * h_ratios[None, :]).view(-1)
        return torch.stack([0.0 - 0.5 * ws, 0.0 - 0.5 * hs, 0.0 + 0.5 * ws, 0.0 + 0.5 * hs], -1)

    def grid_priors(self, featmap_sizes: Sequence[Sequence[int]], dtype: torch.dtype = torch.float32,
                    device: Any = "cpu") -> list[torch.Tensor]:
        """Anchors of every level, ``(H * W * A, 4)``, location-major."""
        out = []
        for i, (feat_h, feat_w) in enumerate(featmap_sizes):
            base = self.base_anchors[i].to(device).to(dtype)
            stride_w, stride_h = self.strides[i]
            shift_x = torch.arange(0, feat_w, device=device).to(dtype) * stride_w
            shift_y = torch.arange(0, feat_h, device=device).to(dtype) * stride_h
            xx = shift_x.repeat(shift_y.shape[0])
            yy = shift_y.view(-1, 1).repeat(1, shift_x.shape[0]).view(-1)
            shifts = torch.stack([xx, yy, xx, yy], dim=-1)
            out.append((base[None, :, :] + shifts[:, None, :]).view(-1, 4))
        return out

    def valid_flags(self, featmap_sizes: Sequence[Sequence[int]], pad_shape: Sequence[int],
                    device: Any = "cpu") -> list[torch.Tensor]:
        """Per level, whether each anchor's location lies inside the padded image."""
        out = []
        h, w = pad_shape[:2]
        for i, (feat_h, feat_w) in enumerate(featmap_sizes):
            stride_w, stride_h = self.strides[i]
            valid_h = min(int(np.ceil(h / stride_h)), feat_h)
            valid_w = min(int(np.ceil(w / stride_w)), feat_w)
            vx = torch.zeros(feat_w, dtype=torch.bool, device=device)
            vy = torch.zeros(feat_h, dtype=torch.bool, device=device)
            vx[:valid_w] = 1
            vy[:valid_h] = 1
            valid = vx.repeat(feat_h) & vy.view(-1, 1).repeat(1, feat_w).view(-1)
            num = self.num_base_priors[i]
            out.append(valid[:, None].expand(valid.size(0), num).contiguous().view(-1))
        return out


class DeltaXYWHBBoxCoder:
    """mmdet's ``DeltaXYWHBBoxCoder``: boxes <-> normalised ``(dx, dy, dw, dh)``."""

    def __init__(self, target_means: Sequence[float] = (0.0, 0.0, 0.0, 0.0),
                 target_stds: Sequence[float] = (1.0, 1.0, 1.0, 1.0), clip_border: bool = True,
                 add_ctr_clamp: bool = False, ctr_clamp: int = 32):
        self.means = tuple(target_means)
        self.stds = tuple(target_stds)
        self.clip_border = clip_border
        self.add_ctr_clamp = add_ctr_clamp
        self.ctr_clamp = ctr_clamp

    def encode(self, proposals: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
        proposals, gt = proposals.float(), gt.float()
        px = (proposals[..., 0] + proposals[..., 2]) * 0.5
        py = (proposals[..., 1] + proposals[..., 3]) * 0.5
        pw = proposals[..., 2] - proposals[..., 0]
        ph = proposals[..., 3] - proposals[..., 1]
        gx = (gt[..., 0] + gt[..., 2]) * 0.5
        gy = (gt[..., 1] + gt[..., 3]) * 0.5
        gw = gt[..., 2] - gt[..., 0]
        gh = gt[..., 3] - gt[..., 1]
        deltas = torch.stack([(gx - px) / pw, (gy - py) / ph, torch.log(gw / pw),
                              torch.log(gh / ph)], dim=-1)
        means = deltas.new_tensor(self.means).unsqueeze(0)
        stds = deltas.new_tensor(self.stds).unsqueeze(0)
        return deltas.sub_(means).div_(stds)

    def decode(self, rois: torch.Tensor, deltas: torch.Tensor, max_shape: Sequence[int] | None = None,
               wh_ratio_clip: float = 16 / 1000) -> torch.Tensor:
        num_bboxes, num_classes = deltas.size(0), deltas.size(1) // 4
        if num_bboxes == 0:
            return deltas
        deltas = deltas.reshape(-1, 4)
        means = deltas.new_tensor(self.means).view(1, -1)
        stds = deltas.new_tensor(self.stds).view(1, -1)
        denorm = deltas * stds + means
        dxy, dwh = denorm[:, :2], denorm[:, 2:]
        rois_ = rois.repeat(1, num_classes).reshape(-1, 4)
        pxy = (rois_[:, :2] + rois_[:, 2:]) * 0.5
        pwh = rois_[:, 2:] - rois_[:, :2]
        dxy_wh = pwh * dxy
        max_ratio = np.abs(np.log(wh_ratio_clip))
        if self.add_ctr_clamp:
            dxy_wh = torch.clamp(dxy_wh, max=self.ctr_clamp, min=-self.ctr_clamp)
            dwh = torch.clamp(dwh, max=max_ratio)
        else:
            dwh = dwh.clamp(min=-max_ratio, max=max_ratio)
        gxy = pxy + dxy_wh
        gwh = pwh * dwh.exp()
        bboxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
        if self.clip_border and max_shape is not None:
            bboxes[..., 0::2].clamp_(min=0, max=max_shape[1])
            bboxes[..., 1::2].clamp_(min=0, max=max_shape[0])
        return bboxes.reshape(num_bboxes, -1)


def bbox_overlaps(bboxes1: torch.Tensor, bboxes2: torch.Tensor, mode: str = "iou",
                  eps: float = 1e-6) -> torch.Tensor:
    """IoU (or ``'iof'``: intersection over ``bboxes1``'s area) of every pair, ``(M, N)``."""
    bboxes1, bboxes2 = bboxes1[..., :4], bboxes2[..., :4]
    rows, cols = bboxes1.size(-2), bboxes2.size(-2)
    if rows * cols == 0:
        return bboxes1.new(rows, cols)
    area1 = (bboxes1[..., 2] - bboxes1[..., 0]) * (bboxes1[..., 3] - bboxes1[..., 1])
    area2 = (bboxes2[..., 2] - bboxes2[..., 0]) * (bboxes2[..., 3] - bboxes2[..., 1])
    lt = torch.max(bboxes1[..., :, None, :2], bboxes2[..., None, :, :2])
    rb = torch.min(bboxes1[..., :, None, 2:], bboxes2[..., None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    overlap = wh[..., 0] * wh[..., 1]
    union = area1[..., None] + area2[..., None, :] - overlap if mode == "iou" \
        else area1[..., None]
    union = torch.max(union, union.new_tensor([eps]))
    return overlap / union


def images_to_levels(target: list[torch.Tensor], num_levels: list[int]) -> list[torch.Tensor]:
    """Per-image targets (all levels) -> per-level targets (all images)."""
    target = torch.stack(target, 0)
    out, start = [], 0
    for n in num_levels:
        out.append(target[:, start:start + n])
        start += n
    return out


def unmap(data: torch.Tensor, count: int, inds: torch.Tensor, fill: float = 0) -> torch.Tensor:
    """Scatter ``data`` (the ``inds`` subset) back to ``count`` items, ``fill`` elsewhere."""
    if data.dim() == 1:
        ret = data.new_full((count,), fill)
        ret[inds.type(torch.bool)] = data
    else:
        ret = data.new_full((count,) + data.size()[1:], fill)
        ret[inds.type(torch.bool), :] = data
    return ret


def multiclass_nms(multi_bboxes: torch.Tensor, multi_scores: torch.Tensor, score_thr: float,
                   nms_cfg: Mapping[str, Any], max_num: int = -1
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """mmdet's ``multiclass_nms``: per-class boxes above ``score_thr``, NMS'd per class, the
    best ``max_num`` kept; returns ``(dets (K, 5), labels (K,))``."""
    num_classes = multi_scores.size(1) - 1
    if multi_bboxes.shape[1] > 4:
        bboxes = multi_bboxes.view(multi_scores.size(0), -1, 4)
    else:
        bboxes = multi_bboxes[:, None].expand(multi_scores.size(0), num_classes, 4)
    scores = multi_scores[:, :-1]
    labels = torch.arange(num_classes, dtype=torch.long, device=scores.device)
    labels = labels.view(1, -1).expand_as(scores)
    bboxes, scores, labels = bboxes.reshape(-1, 4), scores.reshape(-1), labels.reshape(-1)
    inds = (scores > score_thr).nonzero(as_tuple=False).squeeze(1)
    bboxes, scores, labels = bboxes[inds], scores[inds], labels[inds]
    if bboxes.numel() == 0:
        return torch.cat([bboxes, scores[:, None]], -1), labels
    dets, keep = batched_nms(bboxes, scores, labels, nms_cfg)
    if max_num > 0:
        dets, keep = dets[:max_num], keep[:max_num]
    return dets, labels[keep]

"""TextSnake's decoding: text-center regions -> skeleton -> centred disks -> text boundary.

As MMOCR 0.6.3 (after TextSnake.pytorch): the center score (``P(center) * P(text)``) is
thresholded and its holes filled; for each center region of at least ``min_center_area``
pixels, the skeleton pixels are moved to the middle of the region along the predicted normal
(:func:`centralize`), a disk of the predicted radius is placed on each, overlapping disks are
merged (:func:`merge_disks`), and the outer contour of the union of disks (radius > 1) is the
boundary, scored by the mean text score inside it.

The skeleton is scikit-image's ``skeletonize``, the function MMOCR calls.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import torch

from ocr_ds.errors import bad_value
from ocr_ds.models.common.mask_ops import fill_hole


# A bound MMOCR does not have: a step is 3% of the predicted radius, so a near-zero radius
# (an untrained model) would march for hours; a sane one stops within ~40 steps.
MAX_MARCH_STEPS = 2000


def _march(points: np.ndarray, step: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Move every point by ``step`` while the next integer position is inside ``mask``
    (x strictly inside ``(0, w)``, as MMOCR), at most ``MAX_MARCH_STEPS`` times."""
    h, w = mask.shape
    moving = np.ones((len(points), 1), dtype=bool)
    for _ in range(MAX_MARCH_STEPS):
        if not np.any(moving):
            break
        nxt = np.array(points + step, dtype=np.int32)
        y, x = nxt[:, 0], nxt[:, 1]
        moving = (y >= 0) & (y < h) & (x > 0) & (x < w) & \
            mask[np.clip(y, 0, h - 1), np.clip(x, 0, w - 1)].astype(bool)
        points = points + moving.reshape((-1, 1)) * step
    return points


def centralize(points_yx: np.ndarray, normal_sin: np.ndarray, normal_cos: np.ndarray,
               radius: np.ndarray, contour_mask: np.ndarray, step_ratio: float = 0.03
               ) -> np.ndarray:
    """The middle of each point's chord through ``contour_mask`` along the normal, found by
    stepping both ways (steps of ``step_ratio`` x radius); int32 ``(n, 2)`` y, x."""
    step = step_ratio * radius * np.hstack([normal_sin, normal_cos])
    top = _march(points_yx, step, contour_mask)
    bot = _march(points_yx, -step, contour_mask)
    return np.array((top + bot) * 0.5, dtype=np.int32)


def merge_disks(disks: np.ndarray, disk_overlap_thr: float) -> np.ndarray:
    """Greedy merge, highest score first, of ``(x, y, radius, score)`` disks whose centres are
    within ``(r_i + r_j) x disk_overlap_thr``: each group becomes its mean disk."""
    xy, radius, scores = disks[:, 0:2], disks[:, 2], disks[:, 3]
    # stable: MMOCR's order of tied scores followed numpy's unstable sort (version- and
    # CPU-dependent)
    order = scores.argsort(kind="stable")[::-1]
    merged = []
    while order.size > 0:
        if order.size == 1:
            merged.append(disks[order])
            break
        i = order[0]
        d = np.linalg.norm(xy[i] - xy[order[1:]], axis=1)
        d_thr = (radius[i] + radius[order[1:]]) * disk_overlap_thr
        merge_inds = np.where(d <= d_thr)[0] + 1
        if merge_inds.size > 0:
            merged.append(np.mean(disks[np.hstack([i, order[merge_inds]])], axis=0))
        else:
            merged.append(disks[i])
        order = order[np.where(d > d_thr)[0] + 1]
    return np.vstack(merged)


class TextSnakePostprocessor:
    """Decode one image's ``(5, H, W)`` TextSnake maps into ``[x1, y1, ..., score]`` boundaries.

    Args:
        text_repr_type: Only 'poly'. Defaults to 'poly'.
        min_text_region_confidence: Text-score threshold. Defaults to 0.6.
        min_center_region_confidence: Center-score threshold. Defaults to 0.2.
        min_center_area: Smallest center region kept, in pixels. Defaults to 30.
        disk_overlap_thr: Disk merge distance, relative to the radii sum. Defaults to 0.03.
        radius_shrink_ratio: Radius multiplier. Defaults to 1.03.
    """

    def __init__(self, text_repr_type: str = "poly", min_text_region_confidence: float = 0.6,
                 min_center_region_confidence: float = 0.2, min_center_area: int = 30,
                 disk_overlap_thr: float = 0.03, radius_shrink_ratio: float = 1.03,
                 **kwargs: Any):
        if text_repr_type != "poly":
            raise bad_value("model.bbox_head.postprocessor.text_repr_type", text_repr_type,
                            "'poly' (TextSnake gives polygons only)")
        self.text_repr_type = text_repr_type
        self.min_text_region_confidence = min_text_region_confidence
        self.min_center_region_confidence = min_center_region_confidence
        self.min_center_area = min_center_area
        self.disk_overlap_thr = disk_overlap_thr
        self.radius_shrink_ratio = radius_shrink_ratio

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        from skimage.morphology import skeletonize  # only TextSnake needs scikit-image

        preds = preds.detach().float().cpu().clone()
        preds[:2] = torch.sigmoid(preds[:2])
        preds = preds.numpy()
        text_score = preds[0]
        center_score = preds[1] * text_score
        center_mask = center_score > self.min_center_region_confidence
        scale = np.sqrt(1.0 / (preds[2] ** 2 + preds[3] ** 2 + 1e-8))
        pred_sin, pred_cos, pred_radius = preds[2] * scale, preds[3] * scale, preds[4]
        shape = text_score.shape

        center_mask = fill_hole(center_mask).astype(np.uint8)
        contours, _ = cv2.findContours(center_mask, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
        boundaries = []
        for contour in contours:
            if cv2.contourArea(contour) < self.min_center_area:
                continue
            region = np.zeros(shape, dtype=np.uint8)
            cv2.drawContours(region, [contour], -1, 1, -1)
            skeleton_yx = np.argwhere(skeletonize(region) > 0)
            y, x = skeleton_yx[:, 0], skeleton_yx[:, 1]
            cos = pred_cos[y, x].reshape((-1, 1))
            sin = pred_sin[y, x].reshape((-1, 1))
            radius = pred_radius[y, x].reshape((-1, 1))
            center_yx = centralize(skeleton_yx, cos, -sin, radius, region)
            y, x = center_yx[:, 0], center_yx[:, 1]
            radius = (pred_radius[y, x] * self.radius_shrink_ratio).reshape((-1, 1))
            score = center_score[y, x].reshape((-1, 1))
            disks = merge_disks(np.hstack([np.fliplr(center_yx), radius, score]),
                                self.disk_overlap_thr)
            instance = np.zeros(shape, dtype=np.uint8)
            for cx, cy, r, _ in disks:
                if r > 1:
                    cv2.circle(instance, (int(cx), int(cy)), int(r), 1, -1)
            outer, _ = cv2.findContours(instance, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
            score = np.sum(instance * text_score) / (np.sum(instance) + 1e-8)
            if len(outer) > 0 and cv2.contourArea(outer[0]) > 0 and outer[0].size > 8:
                boundaries.append(outer[0].flatten().tolist() + [score])
        return boundaries

"""PSENet's post-processing: progressive scale expansion, in numpy and OpenCV.

The smallest kernel's connected components seed the instances; each larger kernel in turn
then grows every instance breadth-first into that kernel's pixels (4-neighbourhood, first
come first served), as mmcv's ``contour_expand``. The breadth-first search is run one ring at
a time over the whole map with array operations, so its cost is a handful of vectorised passes
per kernel rather than a Python loop per pixel.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.postprocess import check_repr_type, points2boundary


def _neighbour_label(labels: np.ndarray) -> np.ndarray:
    """For each pixel, the label of a labelled 4-neighbour (up, down, left, right first)."""
    padded = np.pad(labels, 1)
    cand = padded[:-2, 1:-1].copy()                      # the pixel above
    for shifted in (padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]):
        take = cand == 0
        cand[take] = shifted[take]
    return cand


def expand_kernels(kernel_masks: np.ndarray, labels: np.ndarray,
                   min_kernel_area: int = 0) -> np.ndarray:
    """Grow the seed ``labels`` (of the last, smallest kernel) through ``kernel_masks[K-2..0]``.

    Args:
        kernel_masks: ``(K, H, W)`` bool/uint8, largest kernel first.
        labels: ``(H, W)`` int seeds, 0 for background.
        min_kernel_area: Seeds smaller than this many pixels are dropped first.
    """
    labels = labels.astype(np.int32, copy=True)
    if min_kernel_area > 0 and labels.max() > 0:
        areas = np.bincount(labels.ravel())
        small = np.flatnonzero(areas < min_kernel_area)
        small = small[small > 0]
        if len(small):
            labels[np.isin(labels, small)] = 0
    for k in range(kernel_masks.shape[0] - 2, -1, -1):
        allowed = kernel_masks[k].astype(bool)
        while True:
            free = allowed & (labels == 0)
            if not free.any():
                break
            cand = _neighbour_label(labels)
            grow = free & (cand > 0)
            if not grow.any():
                break
            labels[grow] = cand[grow]
    return labels


def label_points(labels: np.ndarray) -> dict[int, np.ndarray]:
    """``{label: (n, 2) x,y points}`` for every label > 0, in one sort."""
    flat = labels.ravel()
    idx = np.flatnonzero(flat)
    if len(idx) == 0:
        return {}
    order = idx[np.argsort(flat[idx], kind="stable")]
    sorted_labels = flat[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    w = labels.shape[1]
    out = {}
    for group in np.split(order, cuts):
        ys, xs = np.divmod(group, w)
        out[int(flat[group[0]])] = np.stack([xs, ys], axis=1)
    return out


class PSEPostprocessor:
    """Decode PSENet's logits ``(K, H, W)`` (text map first, then smaller kernels).

    Args:
        text_repr_type: 'poly' (outer contour) or 'quad' (minimum-area rectangle).
        min_kernel_confidence: Probability above which a pixel is in a kernel. Defaults to 0.5.
        min_text_avg_confidence: Instances with a lower mean text probability are dropped.
            Defaults to 0.85.
        min_kernel_area: Smallest seed kept, in pixels. Defaults to 0.
        min_text_area: Smallest instance kept, in pixels. Defaults to 16.
    """

    def __init__(self, text_repr_type: str = "poly", min_kernel_confidence: float = 0.5,
                 min_text_avg_confidence: float = 0.85, min_kernel_area: int = 0,
                 min_text_area: int = 16, **kwargs: object):
        self.text_repr_type = check_repr_type(text_repr_type, "postprocessor")
        for name, value in (("min_kernel_confidence", min_kernel_confidence),
                            ("min_text_avg_confidence", min_text_avg_confidence)):
            if not 0 <= value <= 1:
                raise UserError(f"postprocessor.{name}: expected a value in [0, 1] "
                                f"(got {value!r})")
        self.min_kernel_confidence = min_kernel_confidence
        self.min_text_avg_confidence = min_text_avg_confidence
        self.min_kernel_area = int(min_kernel_area)
        self.min_text_area = int(min_text_area)

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        probs = torch.sigmoid(preds.detach().float()).cpu().numpy()
        score = probs[0]
        masks = probs > self.min_kernel_confidence
        kernel_masks = masks & masks[0][None]
        _, seeds = cv2.connectedComponents(kernel_masks[-1].astype(np.uint8), connectivity=4)
        labels = expand_kernels(kernel_masks, seeds, self.min_kernel_area)
        if labels.max() == 0:
            return []
        areas = np.bincount(labels.ravel())
        means = np.bincount(labels.ravel(), weights=score.ravel()) / np.maximum(areas, 1)
        boundaries = []
        for label, points in label_points(labels).items():
            if areas[label] < self.min_text_area or means[label] < self.min_text_avg_confidence:
                continue
            boundary = points2boundary(points, self.text_repr_type, float(means[label]))
            if boundary is not None:
                boundaries.append(boundary)
        return boundaries

"""PSENet's post-processing: progressive scale expansion, as MMOCR 0.6.3 runs it.

The smallest kernel's 4-connected components seed the instances; mmcv's compiled
``contour_expand`` then grows them breadth-first (one FIFO queue, seeds in raster order,
neighbours up, down, left, right, first come first served). :func:`contour_expand` computes
the same labels with array operations, one BFS level at a time: a pixel reached in level d+1
takes the label of the earliest level-d pixel (in queue order) next to it, and the next level
is ordered by (discoverer's position, direction), which is exactly the FIFO queue's order.

One property of mmcv 1.7.2's op is kept on purpose: its per-kernel offsets are never filled in
(``std::for_each`` with a lambda that returns instead of assigning), so every expansion round
reads kernel 0, the text mask; the seeds grow through the whole text mask in the first round
and the later rounds change nothing. MMOCR's numbers are those of that behaviour.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.postprocess import check_repr_type, points2boundary

# (row, column) steps in the order mmcv visits a pixel's neighbours
_STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def contour_expand(kernel_masks: np.ndarray, labels: np.ndarray,
                   min_kernel_area: int = 0) -> np.ndarray:
    """mmcv's ``contour_expand(kernel_masks, labels, min_kernel_area, n)`` as an ``(H, W)`` array.

    Args:
        kernel_masks: ``(K, H, W)`` 0/1, the text mask first.
        labels: ``(H, W)`` int seeds (0: background), from the smallest kernel.
        min_kernel_area: Seeds with fewer pixels are dropped (their pixels may be taken by
            another instance).
    """
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros_like(labels)
    height, width = labels.shape
    areas = np.bincount(labels.ravel())
    keep = (labels > 0) & (areas[labels] >= min_kernel_area)
    # the queue: raster order of the seeds
    rows, cols = np.nonzero(keep)
    out[rows, cols] = labels[rows, cols]
    if kernel_masks.shape[0] < 2:
        return out
    free = np.asarray(kernel_masks[0]).astype(bool) & (out == 0)
    while len(rows):
        cand_rows, cand_cols, cand_keys = [], [], []
        order = np.arange(len(rows), dtype=np.int64) * len(_STEPS)
        for d, (dr, dc) in enumerate(_STEPS):
            r, c = rows + dr, cols + dc
            ok = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            ok[ok] = free[r[ok], c[ok]]
            cand_rows.append(r[ok])
            cand_cols.append(c[ok])
            cand_keys.append(order[ok] + d)
        keys = np.concatenate(cand_keys)
        if len(keys) == 0:
            break
        by_key = np.argsort(keys, kind="stable")
        r = np.concatenate(cand_rows)[by_key]
        c = np.concatenate(cand_cols)[by_key]
        parent = (keys[by_key] // len(_STEPS))
        # the first claim (smallest key) of each pixel wins; np.unique keeps the first index
        _, first = np.unique(r * width + c, return_index=True)
        first.sort()
        r, c, parent = r[first], c[first], parent[first]
        out[r, c] = out[rows[parent], cols[parent]]
        free[r, c] = False
        rows, cols = r, c
    return out


class PSEPostprocessor:
    """Decode PSENet's logits ``(K, H, W)`` (text map first, then smaller kernels).

    Args:
        text_repr_type: 'poly' (the outer contour) or 'quad' (minimum-area rectangle).
            Defaults to 'poly'.
        min_kernel_confidence: Probability above which a pixel is in a kernel. Defaults to 0.5.
        min_text_avg_confidence: An instance is kept when its mean text probability is above
            this. Defaults to 0.85.
        min_kernel_area: Smallest seed kept, in pixels. Defaults to 0.
        min_text_area: Smallest instance kept, in pixels. Defaults to 16.
    """

    def __init__(self, text_repr_type: str = "poly", min_kernel_confidence: float = 0.5,
                 min_text_avg_confidence: float = 0.85, min_kernel_area: int = 0,
                 min_text_area: int = 16, **kwargs: object):
        key = "model.bbox_head.postprocessor"
        self.text_repr_type = check_repr_type(text_repr_type, key)
        for name, value in (("min_kernel_confidence", min_kernel_confidence),
                            ("min_text_avg_confidence", min_text_avg_confidence)):
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise UserError(f"{key}.{name}: expected a value in [0, 1] (got {value!r})")
        for name, value in (("min_kernel_area", min_kernel_area),
                            ("min_text_area", min_text_area)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise UserError(f"{key}.{name}: expected an int (got {value!r})")
        self.min_kernel_confidence = min_kernel_confidence
        self.min_text_avg_confidence = min_text_avg_confidence
        self.min_kernel_area = min_kernel_area
        self.min_text_area = min_text_area

    def __call__(self, preds: torch.Tensor) -> list[list[float]]:
        if preds.dim() != 3:
            raise ValueError(f"PSEPostprocessor: expected (K, H, W) maps, got {tuple(preds.shape)}")
        probs = torch.sigmoid(preds.detach())
        masks = probs > self.min_kernel_confidence
        kernel_masks = (masks & masks[0]).cpu().numpy().astype(np.uint8)
        score = probs[0].float().cpu().numpy().astype(np.float32)
        _, seeds = cv2.connectedComponents(kernel_masks[-1], connectivity=4)
        labels = contour_expand(kernel_masks, seeds, self.min_kernel_area)
        flat = labels.ravel()
        pixels = np.flatnonzero(flat)
        if len(pixels) == 0:
            return []
        # every instance's pixels in raster order (one stable sort), as np.where gives them
        pixels = pixels[np.argsort(flat[pixels], kind="stable")]
        cuts = np.flatnonzero(np.diff(flat[pixels])) + 1
        boundaries = []
        for group in np.split(pixels, cuts):
            area = len(group)
            confidence = np.mean(score.ravel()[group]).item()
            if not (area >= self.min_text_area and confidence > self.min_text_avg_confidence):
                continue
            ys, xs = np.divmod(group, labels.shape[1])
            boundary = points2boundary(np.stack([xs, ys], axis=1), self.text_repr_type,
                                       confidence)
            if boundary is not None:
                boundaries.append(boundary)
        return boundaries

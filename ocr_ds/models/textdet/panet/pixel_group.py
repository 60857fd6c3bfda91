"""PANet's pixel aggregation: mmcv 1.7.2's compiled ``pixel_group`` op, in numpy.

mmcv grows each kernel into the text mask breadth-first from the kernel's contour pixels
(one FIFO queue, row-major start order, neighbours left, right, up, down; a pixel joins the
first instance that reaches it whose mean kernel embedding is nearer than
``distance_threshold``). Here the same search runs one ring at a time with array operations:
a ring's pixels are ordered by (queue position of the pixel that reached them, direction),
which is exactly the order mmcv's queue holds them in, so every pixel goes to the same
instance. The float32 arithmetic is mmcv's too (kernel means and scores summed in float32 in
row-major order, squared distances accumulated in float32 from double terms), so the
instances, scores and point lists come out identical, not merely close.
"""
from __future__ import annotations

import numpy as np

# mmcv's neighbour order: dx = {-1, 1, 0, 0}, dy = {0, 0, -1, 1}
_DY = np.array([0, 0, -1, 1])
_DX = np.array([-1, 1, 0, 0])


def _label_sums(labels: np.ndarray, values: np.ndarray, num: int) -> np.ndarray:
    """Float32 sums of ``values`` rows per label, added one pixel at a time in order."""
    sums = np.zeros((num,) + values.shape[1:], np.float32)
    np.add.at(sums, labels, values.astype(np.float32, copy=False))   # sequential, unbuffered
    return sums


def _square_distance(means: np.ndarray, emb: np.ndarray) -> np.ndarray:
    """mmcv's ``dis += pow(mean - e, 2)``: float32 differences, double squares, float32 sum."""
    diff = means - emb                                     # float32 - float32
    dis = np.zeros(len(diff), np.float32)
    for d in range(diff.shape[1]):
        dis = (dis.astype(np.float64) + diff[:, d].astype(np.float64) ** 2).astype(np.float32)
    return dis


def pixel_group(score: np.ndarray, mask: np.ndarray, embedding: np.ndarray,
                kernel_label: np.ndarray, kernel_contour: np.ndarray, kernel_region_num: int,
                distance_threshold: float) -> list[list[float]]:
    """Group text pixels into the instances of ``kernel_label``.

    Args:
        score: ``(H, W)`` text probability.
        mask: ``(H, W)`` bool text mask.
        embedding: ``(H, W, C)`` per-pixel embedding.
        kernel_label: ``(H, W)`` int kernel instance labels, 0 for background.
        kernel_contour: ``(H, W)`` non-zero on the contour pixels of the kernels.
        kernel_region_num: Number of labels including the background.
        distance_threshold: Largest embedding distance to a kernel's mean that joins it.

    Returns:
        One list per label (the background first, ``[0, 0]``): ``[mean score, pixel count,
        x1, y1, x2, y2, ...]`` with the pixels in row-major order.
    """
    h, w = score.shape
    emb = np.ascontiguousarray(embedding, dtype=np.float32).reshape(h * w, -1)
    labels = np.ascontiguousarray(kernel_label, dtype=np.int32).reshape(-1).copy()
    text = np.ascontiguousarray(mask).reshape(-1).astype(bool)
    num = int(kernel_region_num)

    in_kernel = np.flatnonzero(labels > 0)
    counts = np.bincount(labels[in_kernel], minlength=num).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = _label_sums(labels[in_kernel], emb[in_kernel], num) / counts[:, None]
    thr_sq = np.float32(distance_threshold) * np.float32(distance_threshold)

    # the queue, one ring at a time: flat pixel index and label, in mmcv's queue order
    start = in_kernel[np.asarray(kernel_contour).reshape(-1)[in_kernel] != 0]
    q_pix, q_lab = start, labels[start]
    while len(q_pix):
        y, x = np.divmod(q_pix, w)
        ny = (y[:, None] + _DY).reshape(-1)               # (queue position, direction) order
        nx = (x[:, None] + _DX).reshape(-1)
        lab = np.repeat(q_lab, 4)
        ok = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
        pix = ny[ok] * w + nx[ok]
        lab = lab[ok]
        free = text[pix] & (labels[pix] == 0)
        pix, lab = pix[free], lab[free]
        near = _square_distance(means[lab], emb[pix]) < thr_sq
        pix, lab = pix[near], lab[near]
        # the first in queue order claims a pixel reached from several places
        pix, first = np.unique(pix, return_index=True)
        order = np.argsort(first, kind="stable")
        q_pix, q_lab = pix[order], lab[first[order]]
        labels[q_pix] = q_lab

    # mmcv's estimate_confidence: per label, mean score and the pixels in row-major order
    scores = np.ascontiguousarray(score, dtype=np.float32).reshape(-1)
    found = np.flatnonzero(labels > 0)
    found_lab = labels[found]
    sizes = np.bincount(found_lab, minlength=num)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = (_label_sums(found_lab, scores[found], num)
                      / sizes.astype(np.float32)).tolist()
    ys, xs = np.divmod(found[np.argsort(found_lab, kind="stable")], w)
    coords = np.stack([xs, ys], 1).reshape(-1).astype(float).tolist()
    ends = (2 * np.cumsum(sizes)).tolist()
    out = []
    for label, size in enumerate(sizes.tolist()):
        if size == 0:
            out.append([0.0, 0.0])
        else:
            start = ends[label] - 2 * size
            out.append([confidence[label], float(size)] + coords[start:ends[label]])
    return out

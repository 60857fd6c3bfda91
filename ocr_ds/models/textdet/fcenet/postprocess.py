"""FCENet's decoding: Fourier signatures at text pixels -> polygons -> polygon NMS.

``FCEPostprocessor`` decodes one pyramid level of one image, as MMOCR 0.6.3 does: the score
``P(text)^alpha * P(center)^beta`` is thresholded, holes are filled, and for each connected
region every pixel above the threshold proposes the polygon of its predicted Fourier
coefficients (the constant term shifted by the pixel's position, all scaled by the level's
stride), reconstructed with an inverse FFT at ``num_reconstr_points`` integer points; the
proposals of a region, then of the whole image, go through :func:`poly_nms`.

``poly_nms`` gives MMOCR's NMS result (shapely IoU, invalid polygons cleaned with
``buffer(0)``, IoU 1 when the union is empty): the same surviving boundaries in the same
order, with GEOS's overlays only for the pairs their areas and bounding boxes leave open.
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
import shapely
import torch
from shapely.geometry import Polygon

from ocr_ds.errors import bad_value
from ocr_ds.models.common.mask_ops import fill_hole


def clean_polygon(points: Sequence[float]) -> Polygon:
    """A flat ``[x1, y1, ..., xn, yn]`` as a shapely polygon, cleaned with ``buffer(0)`` when
    it is not valid (MMOCR's ``poly_make_valid``)."""
    poly = Polygon(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    return poly if poly.is_valid else poly.buffer(0)


# relative margin of the shortcuts below against rounding in the areas GEOS computes
_MARGIN = 1e-9


def _suppressed(shapes: np.ndarray, area: np.ndarray, box: np.ndarray, top: int,
                others: np.ndarray, threshold: float) -> np.ndarray:
    """Whether MMOCR's IoU of ``shapes[top]`` with each of ``others`` (intersection area over
    union area, 1 when the union is empty) is above ``threshold``.

    The areas settle most pairs without an overlay: an IoU is at most smaller area / larger
    area, 0 without a shared point (bounding boxes first, then GEOS's prepared predicate), at
    least intersection / (sum of areas) and at most intersection / larger area; only pairs
    these leave within ``_MARGIN`` of the threshold get GEOS's union."""
    if threshold < 0:                   # every IoU (>= 0) is above it
        return np.ones(len(others), bool)
    a, b = area[top], area[others]
    if a == 0:                          # no intersection area; an empty union with a flat one
        return (b == 0) & (1 > threshold)
    small, big = np.minimum(a, b), np.maximum(a, b)
    low, high = box[top]
    near = ((small >= threshold * big * (1 - _MARGIN)) & (b > 0)
            & np.all(box[others, 0] <= high, axis=1) & np.all(box[others, 1] >= low, axis=1))
    near[near] = shapely.intersects(shapes[top], shapes[others[near]])
    out = np.zeros(len(others), bool)
    inter = shapely.area(shapely.intersection(shapes[top], shapes[others[near]]))
    sure = inter > threshold * (a + b[near]) * (1 + _MARGIN)
    unsure = ~sure & (inter >= threshold * big[near] * (1 - _MARGIN))
    union = shapely.area(shapely.union(shapes[top], shapes[others[near][unsure]]))
    sure[unsure] = np.divide(inter[unsure], union, out=np.ones_like(union),
                             where=union != 0) > threshold
    out[near] = sure
    return out


def poly_nms(polygons: list[list[float]], threshold: float) -> list[list[float]]:
    """Keep the highest-scoring ``[x1, y1, ..., score]`` boundary, drop those overlapping it by
    IoU > ``threshold`` (IoU 1 for an empty union), repeat; returns the kept ones, highest
    score first: MMOCR's result, boundary for boundary.

    MMOCR computes two shapely overlays (and cleans both polygons) for the kept boundary with
    every one left, which on an early model (tens of thousands of large, self-crossing
    proposals in one region) makes one evaluation run for minutes to hours; see
    :func:`_suppressed` for the pairs decided without them."""
    if not polygons:
        return []
    # a stable sort by score, ascending, then taken from the end: MMOCR's tie order
    ordered = np.array(sorted(polygons, key=lambda p: p[-1]))
    shapes = np.array([clean_polygon(p[:-1]) for p in ordered], dtype=object)
    shapely.prepare(shapes)
    area = shapely.area(shapes)
    box = shapely.bounds(shapes).reshape(-1, 2, 2)      # (low, high) corners; NaN when empty
    keep = []
    index = np.arange(len(ordered))
    while len(index):
        top, index = index[-1], index[:-1]
        keep.append(ordered[top].tolist())
        index = index[~_suppressed(shapes, area, box, top, index, threshold)]
    return keep


def fourier2poly(coeff: np.ndarray, num_points: int = 50) -> np.ndarray:
    """``(n, 2k+1)`` complex coefficients (degrees -k..k) -> ``(n, 2 num_points)`` int32
    polygons (x1, y1, ...), by an inverse FFT; coordinates truncated toward zero."""
    n = len(coeff)
    k = (coeff.shape[1] - 1) // 2
    spectrum = np.zeros((n, num_points), dtype="complex")
    spectrum[:, :k + 1] = coeff[:, k:]
    spectrum[:, -k:] = coeff[:, :k]
    points = np.fft.ifft(spectrum) * num_points
    polygon = np.zeros((n, num_points, 2))
    polygon[:, :, 0] = points.real
    polygon[:, :, 1] = points.imag
    return polygon.astype("int32").reshape((n, -1))


class FCEPostprocessor:
    """Decode one level's ``[cls (1, 4, H, W), reg (1, 4k+2, H, W)]`` into boundaries.

    Args:
        fourier_degree: k, the highest Fourier degree (set by the head).
        num_reconstr_points: Points of each reconstructed polygon.
        text_repr_type: 'poly' or 'quad'. MMOCR 0.6.3 computes the quads and then returns the
            polygons anyway; so does ocr_ds (both give polygons). Defaults to 'poly'.
        alpha, beta: Exponents of the text-region and center-region scores. Defaults to 1, 2.
        score_thr: Threshold on the combined score. Defaults to 0.3.
        nms_thr: IoU above which a proposal is suppressed (set by the head). Defaults to 0.1.
    """

    def __init__(self, fourier_degree: int, num_reconstr_points: int,
                 text_repr_type: str = "poly", alpha: float = 1.0, beta: float = 2.0,
                 score_thr: float = 0.3, nms_thr: float = 0.1, **kwargs: Any):
        if text_repr_type not in ("poly", "quad"):
            raise bad_value("model.bbox_head.postprocessor.text_repr_type", text_repr_type,
                            "'poly' or 'quad'")
        if not isinstance(num_reconstr_points, int) or num_reconstr_points < 4:
            raise bad_value("model.bbox_head.postprocessor.num_reconstr_points",
                            num_reconstr_points, "an integer >= 4")
        self.text_repr_type = text_repr_type
        self.fourier_degree = fourier_degree
        self.num_reconstr_points = num_reconstr_points
        self.alpha = alpha
        self.beta = beta
        self.score_thr = score_thr
        self.nms_thr = nms_thr

    def __call__(self, preds: Sequence[torch.Tensor], scale: float) -> list[list[float]]:
        k = self.fourier_degree
        cls_pred = preds[0][0].float()
        tr_pred = cls_pred[0:2].softmax(dim=0).detach().cpu().numpy()
        tcl_pred = cls_pred[2:].softmax(dim=0).detach().cpu().numpy()
        reg_pred = preds[1][0].float().permute(1, 2, 0).detach().cpu().numpy()
        x_pred = reg_pred[:, :, :2 * k + 1]
        y_pred = reg_pred[:, :, 2 * k + 1:]

        score_pred = (tr_pred[1] ** self.alpha) * (tcl_pred[1] ** self.beta)
        tr_mask = fill_hole(score_pred > self.score_thr)
        contours, _ = cv2.findContours(tr_mask.astype(np.uint8), cv2.RETR_TREE,
                                       cv2.CHAIN_APPROX_SIMPLE)
        boundaries: list[list[float]] = []
        for cont in contours:
            region = np.zeros(tr_mask.shape, np.int8)
            cv2.drawContours(region, [cont], -1, 1, -1)
            score_map = score_pred * region
            score_mask = score_map > 0
            yx = np.argwhere(score_mask)
            c = x_pred[score_mask] + y_pred[score_mask] * 1j
            c[:, k] = c[:, k] + (yx[:, 1] + yx[:, 0] * 1j)
            c *= scale
            polygons = fourier2poly(c, self.num_reconstr_points)
            score = score_map[score_mask].reshape(-1, 1)
            boundaries += poly_nms(np.hstack((polygons, score)).tolist(), self.nms_thr)
        return poly_nms(boundaries, self.nms_thr)

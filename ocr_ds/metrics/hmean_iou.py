"""Detection metric ``hmean-iou``, computed as MMOCR 0.x (and the ICDAR 2015 protocol) does.

Per image: a prediction that covers a don't-care (``###``) region by more than
``precision_thr`` (0.5) of its own area is ignored; the rest are matched one-to-one to the
cared-for ground truths, greedily in (ground truth, prediction) order, where IoU > ``iou_thr``
(0.5). Counts are summed over the data set: recall = hits / cared ground truths, precision =
hits / cared predictions, hmean their harmonic mean.

``eval_hmean`` sweeps the score threshold (predictions with score >= thr, from
``min_score_thr`` to ``max_score_thr`` by ``step``; predictions with score <= ``min_score_thr``
never count) and reports the best-hmean row as ``hmean-iou:recall``,
``hmean-iou:precision``, ``hmean-iou:hmean``.

Both comparisons are strict (``>``), as in MMOCR's code and the official ICDAR script; a pair at
exactly IoU 0.5 does not match. Polygons are shapely polygons; invalid ones (self-touching)
are cleaned with ``buffer(0)``.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable, Sequence

import numpy as np
from shapely.geometry import Polygon

from ocr_ds.errors import UserError

logger = logging.getLogger("ocr_ds")


def points2polygon(points: Sequence[float]) -> Polygon:
    """A flat ``[x1, y1, ..., xn, yn]`` (n >= 3) -> a valid shapely polygon."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1)
    if pts.size % 2 or pts.size < 6:
        raise UserError(f"hmean-iou: a boundary needs an even number (>= 6) of coordinates "
                        f"(got {pts.size})")
    poly = Polygon(pts.reshape(-1, 2))
    return poly if poly.is_valid else poly.buffer(0)


def poly_iou(a: Polygon, b: Polygon) -> float:
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


def compute_hmean(hits: int, gt_num: int, pred_num: int) -> tuple[float, float, float]:
    """(recall, precision, hmean); no ground truth means recall 1 (precision 1 if no preds)."""
    if gt_num == 0:
        recall = 1.0
        precision = 0.0 if pred_num > 0 else 1.0
    else:
        recall = hits / gt_num
        precision = 0.0 if pred_num == 0 else hits / pred_num
    denom = recall + precision
    return recall, precision, 0.0 if denom == 0 else 2.0 * precision * recall / denom


class _Image:
    """One image's geometry, computed once and reused for every score threshold."""

    def __init__(self, preds: list[Sequence[float]], gts: list[Sequence[float]],
                 ignored: list[Sequence[float]], precision_thr: float):
        self.gt_num = len(gts)
        gt_polys = [points2polygon(g) for g in gts]
        ign_polys = [points2polygon(g) for g in ignored]
        pred_polys = [points2polygon(p) for p in preds]
        self.pred_ignored = np.zeros(len(preds), bool)
        for i, p in enumerate(pred_polys):
            area = p.area
            for g in ign_polys:
                if area > 0 and p.intersection(g).area / area > precision_thr:
                    self.pred_ignored[i] = True
                    break
        self.iou = np.zeros((len(gts), len(preds)))
        for j, p in enumerate(pred_polys):
            if self.pred_ignored[j]:
                continue
            for i, g in enumerate(gt_polys):
                if p.intersects(g):
                    self.iou[i, j] = poly_iou(p, g)

    def count(self, keep: np.ndarray, iou_thr: float) -> tuple[int, int, int]:
        """(hits, cared ground truths, cared predictions) using the predictions in ``keep``."""
        cols = np.flatnonzero(keep & ~self.pred_ignored)
        gt_hit = np.zeros(self.gt_num, bool)
        pred_hit = np.zeros(len(keep), bool)
        hits = 0
        for i in range(self.gt_num):
            for j in cols:
                if not gt_hit[i] and not pred_hit[j] and self.iou[i, j] > iou_thr:
                    gt_hit[i] = pred_hit[j] = True
                    hits += 1
        return hits, self.gt_num, len(cols)


def eval_hmean_iou(pred_boxes: list[list[Sequence[float]]], gt_boxes: list[list[Sequence[float]]],
                   gt_ignored_boxes: list[list[Sequence[float]]], iou_thr: float = 0.5,
                   precision_thr: float = 0.5) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Data-set and per-image recall/precision/hmean for boundaries without scores."""
    if not len(pred_boxes) == len(gt_boxes) == len(gt_ignored_boxes):
        raise ValueError("eval_hmean_iou: predictions and ground truths differ in length")
    totals = np.zeros(3, int)
    per_image = []
    for preds, gts, ignored in zip(pred_boxes, gt_boxes, gt_ignored_boxes):
        img = _Image(list(preds), list(gts), list(ignored), precision_thr)
        counts = img.count(np.ones(len(preds), bool), iou_thr)
        r, p, h = compute_hmean(*counts)
        per_image.append(dict(recall=r, precision=p, hmean=h))
        totals += counts
    r, p, h = compute_hmean(*(int(v) for v in totals))
    return dict(num_gts=int(totals[1]), num_dets=int(totals[2]), num_match=int(totals[0]),
                recall=r, precision=p, hmean=h), per_image


def score_thresholds(min_score_thr: float, max_score_thr: float, step: float) -> list[float]:
    """``min, min + step, ...`` up to ``max`` (inclusive, below 1), as MMOCR's arange."""
    if not 0 <= min_score_thr <= max_score_thr <= 1 or not 0 < step <= 1:
        raise UserError(f"evaluation: expected 0 <= min_score_thr <= max_score_thr <= 1 and "
                        f"0 < step <= 1 (got {min_score_thr}, {max_score_thr}, {step})")
    n = int(np.floor((min(max_score_thr + step, 1.0) - min_score_thr) / step - 1e-9)) + 1
    return [round(min_score_thr + i * step, 10) for i in range(max(n, 1))]


def split_boundaries(result: dict[str, Any]) -> tuple[list[list[float]], list[float]]:
    """``{'boundary_result': [[x1, y1, ..., score], ...]}`` -> (points, scores)."""
    boundaries = result.get("boundary_result", [])
    points, scores = [], []
    for b in boundaries:
        if len(b) < 7 or len(b) % 2 == 0:
            raise UserError(f"hmean-iou: a predicted boundary must be [x1, y1, ..., xn, yn, "
                            f"score] with n >= 3 (got {len(b)} values)")
        points.append(list(b[:-1]))
        scores.append(float(b[-1]))
    return points, scores


def eval_hmean(results: list[dict[str, Any]], gt_masks: list[list[Sequence[float]]],
               gt_masks_ignore: list[list[Sequence[float]]],
               metrics: Iterable[str] = ("hmean-iou",), min_score_thr: float = 0.3,
               max_score_thr: float = 0.9, step: float = 0.1, iou_thr: float = 0.5,
               precision_thr: float = 0.5,
               img_names: list[str] | None = None, rank_list: str | None = None,
               logger: logging.Logger | None = None) -> dict[str, float]:
    """Sweep the score threshold and report the best hmean (see the module docstring).

    Args:
        results: One ``{'boundary_result': ...}`` per image.
        gt_masks, gt_masks_ignore: Per image, the cared and don't-care polygons (flat lists).
        rank_list: A ``.json`` path: write the per-image results at the best threshold,
            worst hmean first (MMOCR's ``rank_list``).
    """
    log = logger or globals()["logger"]
    metrics = list(metrics)
    unknown = [m for m in metrics if m != "hmean-iou"]
    if unknown:
        raise UserError(f"evaluation.metric: expected 'hmean-iou' (got {unknown[0]!r})")
    if not len(results) == len(gt_masks) == len(gt_masks_ignore):
        raise UserError(f"evaluation: {len(results)} results for {len(gt_masks)} images")
    thrs = score_thresholds(min_score_thr, max_score_thr, step)
    images, scores = [], []
    for result, gts, ignored in zip(results, gt_masks, gt_masks_ignore):
        points, s = split_boundaries(result)
        s = np.asarray(s, dtype=np.float64)
        keep = s > min_score_thr
        points = [p for p, k in zip(points, keep) if k]
        images.append(_Image(points, list(gts), list(ignored), precision_thr))
        scores.append(s[keep])
    best: dict[str, Any] = dict(hmean=-1.0)
    for thr in thrs:
        totals = np.zeros(3, int)
        per_image = []
        for img, s in zip(images, scores):
            counts = img.count(s >= thr, iou_thr)
            totals += counts
            if rank_list:
                per_image.append(dict(zip(("recall", "precision", "hmean"),
                                          compute_hmean(*counts))))
        r, p, h = compute_hmean(*(int(v) for v in totals))
        log.info("thr %.2f, recall: %.3f, precision: %.3f, hmean: %.3f", thr, r, p, h)
        if h > best["hmean"]:
            best = dict(recall=r, precision=p, hmean=h, thr=thr, per_image=per_image)
    if rank_list:
        names = img_names or [str(i) for i in range(len(results))]
        rows = [dict(row, file_name=n) for row, n in zip(best["per_image"], names)]
        with open(rank_list, "w") as f:
            json.dump(sorted(rows, key=lambda r: r["hmean"]), f, indent=1)
    return {"hmean-iou:recall": best["recall"], "hmean-iou:precision": best["precision"],
            "hmean-iou:hmean": best["hmean"]}

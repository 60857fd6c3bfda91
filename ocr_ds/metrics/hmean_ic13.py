"""Detection metric ``hmean-ic13`` (the ICDAR 2013 DetEval protocol), as MMOCR 0.6.3's
``mmocr/core/evaluation/hmean_ic13.py`` computes it.

Per image, with area recall ``R[g, d] = |g & d| / |g|`` and area precision
``P[g, d] = |g & d| / |d|`` (0 where the area is 0):

1. one-to-one: ``g`` and ``d`` match when each is the only partner of the other with
   ``R > recall_thr`` and ``P > precision_thr`` (counted over *all* boxes, don't-care ones
   included), and their centres are closer than ``center_dist_thr`` times the mean of their
   diagonals (quadrilaterals only, as in MMOCR); scores ``one2one_score``;
2. one ground truth to many predictions: the unmatched predictions with ``P >= precision_thr``
   whose recalls add up to ``>= recall_thr``; scores ``one2many_score`` (per prediction for
   precision);
3. many ground truths to one prediction, the mirror image; scores ``many2one_score``.

Predictions covering a don't-care region (by more than ``precision_thr`` of their area) are
ignored. The accumulated scores are summed over the data set.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ocr_ds.errors import UserError
from ocr_ds.metrics.hmean_iou import check_thresholds
from ocr_ds.metrics.polygon import Shape, compute_hmean, ignored_predictions, intersection_area


def _center_distance_ratio(det: np.ndarray, gt: np.ndarray) -> float:
    """Centre distance over the mean diagonal (MMOCR's ``box_center_distance`` / ``box_diag``)."""
    for box in (det, gt):
        if box.size != 8:
            raise UserError(f"hmean-ic13: a one-to-one match needs quadrilaterals (8 "
                            f"coordinates; got {box.size})")
    dist = np.sqrt(np.sum(np.square(gt.reshape(-1, 2).mean(0) - det.reshape(-1, 2).mean(0))))
    diags = (np.sqrt(np.sum(np.square(det[4:6] - det[0:2])))
             + np.sqrt(np.sum(np.square(gt[4:6] - gt[0:2]))))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(dist / diags * 2.0)


class Ic13Image:
    """One image's areas, computed once and matched for any subset of its predictions."""

    def __init__(self, preds: Sequence[Sequence[float]], gts: Sequence[Sequence[float]],
                 ignored: Sequence[Sequence[float]], precision_thr: float = 0.4):
        self.gt_points = [np.asarray(g, np.float64) for g in list(gts) + list(ignored)]
        self.pred_points = [np.asarray(p, np.float64) for p in preds]
        gt_shapes = [Shape(g, "a ground-truth polygon") for g in gts]
        gt_shapes += [Shape(g, "a don't-care polygon") for g in ignored]
        pred_shapes = [Shape(p, "a predicted boundary") for p in preds]
        self.cared_gts = len(gts)
        self.pred_ignored = np.array(
            ignored_predictions(pred_shapes, gt_shapes[self.cared_gts:], precision_thr),
            dtype=bool).reshape(-1)
        self.recall = np.zeros((len(gt_shapes), len(pred_shapes)))
        self.precision = np.zeros_like(self.recall)
        for i, gt in enumerate(gt_shapes):
            for j, det in enumerate(pred_shapes):
                inter = intersection_area(det, gt)
                if gt.area != 0:
                    self.recall[i, j] = inter / gt.area
                if det.area != 0:
                    self.precision[i, j] = inter / det.area

    def count(self, keep: np.ndarray | None, precision_thr: float = 0.4,
              recall_thr: float = 0.8, center_dist_thr: float = 1.0, one2one_score: float = 1.,
              one2many_score: float = 0.8, many2one_score: float = 1.
              ) -> tuple[float, float, int, int]:
        """(recall score, precision score, cared gts, cared predictions) over ``keep``."""
        cols = np.arange(len(self.pred_ignored)) if keep is None else np.flatnonzero(keep)
        R, P = self.recall[:, cols], self.precision[:, cols]
        pred_ign = self.pred_ignored[cols]
        pred_points = [self.pred_points[j] for j in cols]
        gt_num, pred_num = R.shape
        gt_ign = np.arange(gt_num) >= self.cared_gts
        acc_r = acc_p = 0.0
        if gt_num > 0 and pred_num > 0:
            gt_hit = np.zeros(gt_num, bool)
            pred_hit = np.zeros(pred_num, bool)
            strong = (R > recall_thr) & (P > precision_thr)
            for g in range(gt_num):
                for d in range(pred_num):
                    if gt_hit[g] or pred_hit[d] or gt_ign[g] or pred_ign[d]:
                        continue
                    if (strong[g].sum() == 1 and strong[:, d].sum() == 1 and strong[g, d]
                            and _center_distance_ratio(pred_points[d], self.gt_points[g])
                            < center_dist_thr):
                        gt_hit[g] = pred_hit[d] = True
                        acc_r += one2one_score
                        acc_p += one2one_score
            for g in np.flatnonzero(~gt_ign):
                if gt_hit[g]:
                    many, ids = 0.0, []
                else:
                    ids = [d for d in range(pred_num) if not pred_hit[d] and not pred_ign[d]
                           and P[g, d] >= precision_thr]
                    many = 0.0
                    for d in ids:
                        many += R[g, d]
                if many >= recall_thr:
                    gt_hit[g] = True
                    acc_r += one2many_score
                    acc_p += one2many_score * len(ids)
                    pred_hit[ids] = True
            for d in np.flatnonzero(~pred_ign):
                if pred_hit[d]:
                    many, ids = 0.0, []
                else:
                    ids = [g for g in range(gt_num) if not gt_hit[g] and not gt_ign[g]
                           and R[g, d] >= recall_thr]
                    many = 0.0
                    for g in ids:
                        many += P[g, d]
                if many >= precision_thr:
                    pred_hit[d] = True
                    acc_r += many2one_score * len(ids)
                    acc_p += many2one_score
                    gt_hit[ids] = True
        return acc_r, acc_p, self.cared_gts, int(pred_num - pred_ign.sum())


def summarize_ic13(counts: Sequence[tuple[float, float, int, int]]
                   ) -> tuple[dict[str, float], list[dict[str, float]]]:
    per_image = [dict(zip(("recall", "precision", "hmean"), compute_hmean(*c))) for c in counts]
    acc_r = acc_p = 0.0
    gts = preds = 0
    for r, p, g, d in counts:  # summed in image order, as MMOCR does
        gts += g
        preds += d
        acc_r += r
        acc_p += p
    r, p, h = compute_hmean(acc_r, acc_p, gts, preds)
    return dict(num_gts=gts, num_dets=preds, num_recall=acc_r, num_precision=acc_p, recall=r,
                precision=p, hmean=h), per_image


def eval_hmean_ic13(det_boxes: Sequence[Sequence[Sequence[float]]],
                    gt_boxes: Sequence[Sequence[Sequence[float]]],
                    gt_ignored_boxes: Sequence[Sequence[Sequence[float]]],
                    precision_thr: float = 0.4, recall_thr: float = 0.8,
                    center_dist_thr: float = 1.0, one2one_score: float = 1.,
                    one2many_score: float = 0.8, many2one_score: float = 1.
                    ) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Data-set and per-image results of the ICDAR 2013 protocol (MMOCR's keys:
    ``num_gts, num_dets, num_recall, num_precision, recall, precision, hmean``)."""
    check_thresholds(precision_thr=precision_thr, recall_thr=recall_thr,
                     one2one_score=one2one_score, one2many_score=one2many_score,
                     many2one_score=many2one_score)
    if not center_dist_thr > 0:
        raise UserError(f"center_dist_thr: expected a number > 0 (got {center_dist_thr!r})")
    if not len(det_boxes) == len(gt_boxes) == len(gt_ignored_boxes):
        raise UserError(f"hmean-ic13: {len(det_boxes)} images of predictions, {len(gt_boxes)} "
                        f"of ground truths and {len(gt_ignored_boxes)} of don't-care regions")
    args = (precision_thr, recall_thr, center_dist_thr, one2one_score, one2many_score,
            many2one_score)
    return summarize_ic13([Ic13Image(p, g, i, precision_thr).count(None, *args)
                           for p, g, i in zip(det_boxes, gt_boxes, gt_ignored_boxes)])

"""Detection metric ``hmean-iou`` for one score threshold, as MMOCR 0.6.3's
``mmocr/core/evaluation/hmean_iou.py`` (and the ICDAR 2015 protocol).

Per image: a prediction that covers a don't-care (``###``) region by more than
``precision_thr`` (0.5) of its own area is ignored; the rest are matched one-to-one to the
cared-for ground truths, greedily in (ground truth, prediction) order, where IoU > ``iou_thr``
(0.5). Both comparisons are strict, as in MMOCR's code and the official script: a pair at
exactly IoU 0.5 does not match. Counts are summed over the data set: recall = hits / cared
ground truths, precision = hits / cared predictions, hmean their harmonic mean. Polygon
details (non-simple and degenerate polygons) are in :mod:`ocr_ds.metrics.polygon`.

The score-threshold sweep around it is :func:`ocr_ds.metrics.hmean.eval_hmean`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ocr_ds.errors import UserError
from ocr_ds.metrics.polygon import Shape, compute_hmean, ignored_predictions, iou


class IouImage:
    """One image's geometry, computed once and matched for any subset of its predictions
    (the subsets a score-threshold sweep keeps)."""

    def __init__(self, preds: Sequence[Sequence[float]], gts: Sequence[Sequence[float]],
                 ignored: Sequence[Sequence[float]], precision_thr: float = 0.5):
        gt_shapes = [Shape(g, "a ground-truth polygon") for g in gts]
        ign_shapes = [Shape(g, "a don't-care polygon") for g in ignored]
        pred_shapes = [Shape(p, "a predicted boundary") for p in preds]
        self.gt_num = len(gt_shapes)
        self.pred_ignored = np.array(ignored_predictions(pred_shapes, ign_shapes, precision_thr),
                                     dtype=bool).reshape(-1)
        # IoU with the cared ground truths only: don't-care rows never match
        self.iou = np.zeros((self.gt_num, len(pred_shapes)))
        for j, pred in enumerate(pred_shapes):
            if not self.pred_ignored[j]:
                for i, gt in enumerate(gt_shapes):
                    self.iou[i, j] = iou(pred, gt)

    def count(self, keep: np.ndarray | None, iou_thr: float = 0.5) -> tuple[int, int, int]:
        """(hits, cared ground truths, cared predictions) with the predictions in ``keep``
        (a boolean mask, or None for all)."""
        cols = np.arange(len(self.pred_ignored)) if keep is None else np.flatnonzero(keep)
        cols = cols[~self.pred_ignored[cols]]
        pred_hit = np.zeros(len(self.pred_ignored), bool)
        hits = 0
        for i in range(self.gt_num):
            for j in cols:
                if not pred_hit[j] and self.iou[i, j] > iou_thr:
                    pred_hit[j] = True
                    hits += 1
                    break
        return hits, self.gt_num, len(cols)


def check_thresholds(**thrs: float) -> None:
    for name, value in thrs.items():
        if not 0 <= value <= 1:
            raise UserError(f"{name}: expected a number in [0, 1] (got {value!r})")


def eval_hmean_iou(pred_boxes: Sequence[Sequence[Sequence[float]]],
                   gt_boxes: Sequence[Sequence[Sequence[float]]],
                   gt_ignored_boxes: Sequence[Sequence[Sequence[float]]],
                   iou_thr: float = 0.5, precision_thr: float = 0.5
                   ) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Data-set and per-image recall/precision/hmean of boundaries (without scores).

    Returns MMOCR's ``({'num_gts', 'num_dets', 'num_match', 'recall', 'precision', 'hmean'},
    [{'recall', 'precision', 'hmean'} per image])``.
    """
    check_thresholds(iou_thr=iou_thr, precision_thr=precision_thr)
    if not len(pred_boxes) == len(gt_boxes) == len(gt_ignored_boxes):
        raise UserError(f"hmean-iou: {len(pred_boxes)} images of predictions, {len(gt_boxes)} "
                        f"of ground truths and {len(gt_ignored_boxes)} of don't-care regions")
    images = [IouImage(p, g, i, precision_thr)
              for p, g, i in zip(pred_boxes, gt_boxes, gt_ignored_boxes)]
    return summarize([img.count(None, iou_thr) for img in images])


def summarize(counts: Sequence[tuple[int, int, int]]
              ) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Per-image (hits, gts, preds) -> MMOCR's data-set and per-image results."""
    per_image = [dict(zip(("recall", "precision", "hmean"), compute_hmean(h, h, g, p)))
                 for h, g, p in counts]
    hits, gts, preds = (int(sum(c[k] for c in counts)) for k in range(3))
    r, p, h = compute_hmean(hits, hits, gts, preds)
    return dict(num_gts=gts, num_dets=preds, num_match=hits, recall=r, precision=p,
                hmean=h), per_image

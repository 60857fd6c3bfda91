"""The detection evaluation datasets call: a score-threshold sweep over ``hmean-iou`` and/or
``hmean-ic13``, as MMOCR 0.6.3's ``mmocr/core/evaluation/hmean.py`` (``eval_hmean``) does it.

* Predictions with score ``<= min_score_thr`` never count (compared as MMOCR compares them:
  ``np.array(scores) > min_score_thr``, so float32 scores compare in float32).
* The thresholds are exactly ``np.arange(min_score_thr, min(max_score_thr + step, 1.0), step)``
  (0.3, 0.4, 0.5, 0.6000000000000001, ... for the defaults), and a prediction is kept at
  threshold ``t`` when ``score >= t``: a score of exactly 0.6 is *not* kept at the fourth one.
* The best hmean over the sweep is reported, with its recall and precision (the first one on
  ties), as ``'<metric>:recall'``, ``'<metric>:precision'``, ``'<metric>:hmean'``.

Differences kept on purpose: bad arguments are one-line errors instead of assertions;
``rank_list`` writes the per-image results at the best threshold (MMOCR rewrites the file at
every threshold, so it kept the last one, and its datasets' image records lack the
``file_name`` key it reads, so it failed).
"""
from __future__ import annotations

import json
import logging
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ocr_ds.errors import UserError
from ocr_ds.metrics.hmean_ic13 import Ic13Image, summarize_ic13
from ocr_ds.metrics.hmean_iou import IouImage, summarize

logger = logging.getLogger("ocr_ds")

METRICS = ("hmean-iou", "hmean-ic13")


def score_thresholds(min_score_thr: float, max_score_thr: float, step: float) -> np.ndarray:
    """MMOCR's sweep, value for value: ``np.arange(min, min(max + step, 1.0), step)``."""
    if not 0 <= min_score_thr <= max_score_thr <= 1:
        raise UserError(f"evaluation.min_score_thr, max_score_thr: expected 0 <= min_score_thr "
                        f"<= max_score_thr <= 1 (got {min_score_thr}, {max_score_thr})")
    if not 0 < step <= 1:
        raise UserError(f"evaluation.step: expected 0 < step <= 1 (got {step})")
    min_score_thr, max_score_thr, step = float(min_score_thr), float(max_score_thr), float(step)
    thrs = np.arange(min_score_thr, min(max_score_thr + step, 1.0), step)
    if not len(thrs):
        raise UserError(f"evaluation.min_score_thr: no score threshold in [{min_score_thr}, "
                        f"{max_score_thr}] below 1 (got min_score_thr={min_score_thr})")
    return thrs


def get_gt_masks(ann_infos: Sequence[Mapping[str, Any]]) -> tuple[list, list]:
    """Per image, the first polygon of each cared and each don't-care mask (MMOCR's
    ``get_gt_masks``)."""
    gts, ignored = [], []
    for i, ann in enumerate(ann_infos):
        for key, out in (("masks", gts), ("masks_ignore", ignored)):
            polys = []
            for mask in ann[key]:
                poly = mask[0]
                if len(poly) < 8 or len(poly) % 2:
                    raise UserError(f"image {i}: {key}: a ground-truth polygon needs an even "
                                    f"number (>= 8) of coordinates (got {len(poly)})")
                polys.append(poly)
            out.append(polys)
    return gts, ignored


def split_result(result: Any, index: int, min_score_thr: float) -> tuple[list, list]:
    """``{'boundary_result': [[x1, y1, ..., score], ...]}`` -> the boundaries and scores with
    score > ``min_score_thr`` (MMOCR's ``extract_boundary`` + ``filter_2dlist_result``)."""
    if not isinstance(result, Mapping) or "boundary_result" not in result:
        raise UserError(f"results[{index}]: expected a dict with 'boundary_result' "
                        f"(got {type(result).__name__})")
    rows = result["boundary_result"]
    boundaries = [b[:-1] for b in rows]
    scores = [b[-1] for b in rows]
    if boundaries and (len(boundaries[0]) < 8 or len(boundaries[0]) % 2):
        raise UserError(f"results[{index}].boundary_result[0]: expected [x1, y1, ..., xk, yk, "
                        f"score] with k >= 4 (got {len(rows[0])} values)")
    keep = np.flatnonzero(np.array(scores) > min_score_thr) if scores else []
    return [boundaries[i] for i in keep], [float(scores[i]) for i in keep]


def _metric_names(metrics: str | Iterable[str]) -> list[str]:
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise UserError(f"evaluation.metric: expected 'hmean-iou' or 'hmean-ic13' "
                        f"(got {unknown[0]!r})")
    return [m for m in METRICS if m in names]


def sweep(metric: str, preds: Sequence[list], scores: Sequence[list], gts: Sequence[list],
          gts_ignored: Sequence[list], thrs: Sequence[float]
          ) -> Iterator[tuple[float, dict[str, float], list[dict[str, float]]]]:
    """(threshold, data-set result, per-image results) of ``metric`` at each threshold; the
    geometry of each image is computed once for all thresholds."""
    if metric == "hmean-iou":
        images: list[Any] = [IouImage(p, g, i) for p, g, i in zip(preds, gts, gts_ignored)]
        summary: Any = summarize
    else:
        images = [Ic13Image(p, g, i) for p, g, i in zip(preds, gts, gts_ignored)]
        summary = summarize_ic13
    for thr in thrs:
        keep = [np.array([s >= thr for s in image_scores], dtype=bool) for image_scores in scores]
        result, per_image = summary([img.count(k) for img, k in zip(images, keep)])
        yield thr, result, per_image


def eval_hmean(results: Sequence[Mapping[str, Any]], img_infos: Sequence[Mapping[str, Any]],
               ann_infos: Sequence[Mapping[str, Any]],
               metrics: str | Iterable[str] = ("hmean-iou",), score_thr: float | None = None,
               min_score_thr: float = 0.3, max_score_thr: float = 0.9, step: float = 0.1,
               rank_list: str | None = None, logger: logging.Logger | None = None,
               **kwargs: Any) -> dict[str, float]:
    """Sweep the score threshold and report the best hmean of each metric (MMOCR's
    ``eval_hmean``, same arguments).

    Args:
        results: One ``{'boundary_result': [[x1, y1, ..., score], ...]}`` per image.
        img_infos: One dict per image (``filename`` or ``file_name``, for ``rank_list``).
        ann_infos: One dict per image with ``masks`` and ``masks_ignore`` (lists of
            segmentations; the first polygon of each counts).
        metrics: ``'hmean-iou'`` and/or ``'hmean-ic13'`` (a name, a list or a set).
        score_thr: Deprecated spelling of ``min_score_thr`` (used when truthy, as MMOCR).
        rank_list: A ``.json`` path: the per-image results at the best threshold, worst
            hmean first.
    """
    log = logger if isinstance(logger, logging.Logger) else globals()["logger"]
    names = _metric_names(metrics)
    if score_thr:
        min_score_thr = score_thr
    if not len(results) == len(img_infos) == len(ann_infos):
        raise UserError(f"evaluation: {len(results)} results for {len(ann_infos)} images")
    if rank_list is not None and not str(rank_list).endswith("json"):
        raise UserError(f"evaluation.rank_list: expected a .json path (got {rank_list!r})")
    thrs = score_thresholds(min_score_thr, max_score_thr, step)
    gts, gts_ignored = get_gt_masks(ann_infos)
    preds, scores = zip(*(split_result(r, i, float(min_score_thr))
                          for i, r in enumerate(results))) if results else ((), ())
    out: dict[str, float] = {}
    ranked: list[dict[str, Any]] | None = None
    for metric in names:
        log.info("Evaluating %s...", metric)
        best: dict[str, Any] = dict(hmean=-1)
        best_images: list[dict[str, float]] = []
        for thr, result, per_image in sweep(metric, preds, scores, gts, gts_ignored, thrs):
            log.info("thr %.2f, recall: %.3f, precision: %.3f, hmean: %.3f", thr,
                     result["recall"], result["precision"], result["hmean"])
            if result["hmean"] > best["hmean"]:
                best, best_images = result, per_image
        out[f"{metric}:recall"] = best["recall"]
        out[f"{metric}:precision"] = best["precision"]
        out[f"{metric}:hmean"] = best["hmean"]
        if ranked is None:
            ranked = [dict(row, file_name=info.get("file_name", info.get("filename")))
                      for row, info in zip(best_images, img_infos)]
    if rank_list is not None and ranked is not None:
        with open(rank_list, "w", encoding="utf-8") as f:
            json.dump(sorted(ranked, key=lambda r: r["hmean"]), f)
    return out

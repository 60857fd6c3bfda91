"""Ref side (MMOCR 0.6.3 venv): MMOCR's own evaluation functions on the inputs the test sends."""
import numpy as np
from mmocr.core.evaluation.hmean import eval_hmean
from mmocr.core.evaluation.hmean_ic13 import eval_hmean_ic13
from mmocr.core.evaluation.hmean_iou import eval_hmean_iou
from mmocr.core.evaluation.ocr_metric import eval_ocr_metric


def _f32(results):
    return [dict(boundary_result=[b[:-1] + [np.float32(b[-1])] for b in r["boundary_result"]])
            for r in results]


def hmean_cases(cases):
    """``eval_hmean`` for each case ``{results, img_infos, ann_infos, kwargs, f32}``; the
    metrics go in as the set MMOCR wants."""
    out = []
    for case in cases:
        kwargs = dict(case["kwargs"])
        kwargs["metrics"] = set(kwargs.get("metrics", ["hmean-iou"]))
        results = _f32(case["results"]) if case.get("f32") else case["results"]
        out.append(eval_hmean(results, case["img_infos"], case["ann_infos"], **kwargs))
    return out


def per_image(preds, gts, ignored, ic13=True):
    """Data-set and per-image results of both protocols at one threshold."""
    out = dict(iou=eval_hmean_iou(preds, gts, ignored))
    if ic13:
        out["ic13"] = eval_hmean_ic13(preds, gts, ignored)
    return out


def ocr_cases(cases):
    return [eval_ocr_metric(c["pred"], c["gt"], metric=c["metric"]) for c in cases]


def sweep_cases(cases):
    """Per threshold, what ``eval_hmean``'s loop computes, with MMOCR's own pieces (its
    ``eval_hmean`` keeps only the best): ``[(thr, result, img_results), ...]`` per metric."""
    from mmocr.core.evaluation.hmean import get_gt_masks
    from mmocr.core.evaluation.utils import filter_2dlist_result, select_top_boundary
    from mmocr.core.mask import extract_boundary

    out = []
    for case in cases:
        kw = case["kwargs"]
        lo = float(kw.get("min_score_thr", 0.3))
        hi, step = float(kw.get("max_score_thr", 0.9)), float(kw.get("step", 0.1))
        results = _f32(case["results"]) if case.get("f32") else case["results"]
        gts, gts_ignore = get_gt_masks(case["ann_infos"])
        preds, scores = [], []
        for result in results:
            _, texts, s = extract_boundary(result)
            texts, s = filter_2dlist_result(texts, s, lo)
            preds.append(texts)
            scores.append(s)
        per_metric = {}
        for metric in kw.get("metrics", ["hmean-iou"]):
            fn = eval_hmean_iou if metric == "hmean-iou" else eval_hmean_ic13
            per_metric[metric] = [
                (float(thr), *fn(select_top_boundary(preds, scores, thr), gts, gts_ignore))
                for thr in np.arange(lo, min(hi + step, 1.0), step)]
        out.append(per_metric)
    return out


def geometry(pairs):
    """MMOCR's IoU, intersection area and raw areas of each (det, gt) pair of boundaries."""
    from mmocr.core.evaluation.utils import points2polygon, poly_intersection, poly_iou
    out = []
    for det, gt in pairs:
        d, g = points2polygon(det), points2polygon(gt)
        out.append((poly_iou(d, g), poly_intersection(d, g), d.area, g.area))
    return out

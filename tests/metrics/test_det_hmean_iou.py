"""hmean-iou / hmean-ic13 on hand-made cases: matches, misses, don't-care regions, the sweep.

The same functions against MMOCR 0.6.3's own, on random and edge inputs:
test_metrics_parity.py."""
import json

import numpy as np
import pytest

from ocr_ds.errors import UserError
from ocr_ds.metrics.hmean import eval_hmean, score_thresholds
from ocr_ds.metrics.hmean_ic13 import eval_hmean_ic13
from ocr_ds.metrics.hmean_iou import eval_hmean_iou
from ocr_ds.metrics.polygon import compute_hmean


def box(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def pred(x0, y0, x1, y1, score):
    return box(x0, y0, x1, y1) + [score]


def test_perfect_and_empty():
    gts = [[box(0, 0, 10, 10), box(20, 0, 30, 10)]]
    res, per_img = eval_hmean_iou([gts[0]], gts, [[]])
    assert (res["recall"], res["precision"], res["hmean"]) == (1.0, 1.0, 1.0)
    assert per_img == [dict(recall=1.0, precision=1.0, hmean=1.0)]
    # no ground truth and no prediction: recall 1, precision 1 (MMOCR's convention)
    assert compute_hmean(0, 0, 0, 0) == (1.0, 1.0, 1.0)
    assert compute_hmean(0, 0, 0, 3) == (1.0, 0.0, 0.0)


def test_miss_and_false_positive():
    gts = [[box(0, 0, 10, 10), box(20, 0, 30, 10)]]
    preds = [[box(0, 0, 10, 10), box(50, 50, 60, 60), box(70, 70, 80, 80)]]
    res, _ = eval_hmean_iou(preds, gts, [[]])
    assert res["num_match"] == 1 and res["num_gts"] == 2 and res["num_dets"] == 3
    assert res["recall"] == pytest.approx(0.5)
    assert res["precision"] == pytest.approx(1 / 3)
    assert res["hmean"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))


def test_iou_threshold_is_strict_and_one_to_one():
    gt = [[box(0, 0, 10, 10)]]
    # [0,0,15,10] vs [0,0,10,10]: IoU 100/150 = 0.667 -> match
    assert eval_hmean_iou([[box(0, 0, 15, 10)]], gt, [[]])[0]["num_match"] == 1
    # [0,0,20,10]: IoU exactly 0.5 -> no match (MMOCR and the ICDAR script use '>')
    assert eval_hmean_iou([[box(0, 0, 20, 10)]], gt, [[]])[0]["num_match"] == 0
    # two predictions on one ground truth: only one hit, the other is a false positive
    res, _ = eval_hmean_iou([[box(0, 0, 10, 10), box(0, 0, 11, 10)]], gt, [[]])
    assert res["num_match"] == 1 and res["precision"] == 0.5


def test_dont_care_region_ignores_covering_predictions():
    gts, ignored = [[box(0, 0, 10, 10)]], [[box(100, 100, 140, 120)]]
    preds = [[box(0, 0, 10, 10),
              box(100, 100, 130, 120),   # inside the ### region: ignored
              box(120, 100, 170, 120)]]  # 20/50 of its area inside (< 0.5): a false positive
    res, _ = eval_hmean_iou(preds, gts, ignored)
    assert res["num_gts"] == 1 and res["num_dets"] == 2 and res["num_match"] == 1
    assert res["precision"] == 0.5 and res["recall"] == 1.0


def anns(*images):
    """ann_infos of images given as (cared boxes, don't-care boxes)."""
    return [dict(masks=[[g] for g in gts], masks_ignore=[[g] for g in ign]) for gts, ign in images]


def infos(n):
    return [dict(filename=f"img_{i}.jpg") for i in range(n)]


def test_threshold_sweep_picks_best_hmean():
    gts = anns(([box(0, 0, 10, 10), box(20, 0, 30, 10)], []))
    results = [dict(boundary_result=[pred(0, 0, 10, 10, 0.95), pred(20, 0, 30, 10, 0.55),
                                     pred(50, 50, 60, 60, 0.45), pred(70, 70, 80, 80, 0.25)])]
    out = eval_hmean(results, infos(1), gts)
    # thr 0.3/0.4: 2 hits of 3 -> hmean 0.8; thr 0.5: 2 of 2 -> 1.0 (best); thr 0.6+: 1 of 1
    assert out == {"hmean-iou:recall": 1.0, "hmean-iou:precision": 1.0, "hmean-iou:hmean": 1.0}
    # only thresholds up to 0.4: the 0.45 false positive always counts
    out = eval_hmean(results, infos(1), gts, max_score_thr=0.4)
    assert out["hmean-iou:precision"] == pytest.approx(2 / 3)
    assert out["hmean-iou:hmean"] == pytest.approx(0.8)


def test_scores_at_or_below_min_threshold_never_count():
    gts = anns(([box(0, 0, 10, 10)], []))
    out = eval_hmean([dict(boundary_result=[pred(0, 0, 10, 10, 0.3)])], infos(1), gts)
    assert out["hmean-iou:recall"] == 0.0
    # the deprecated score_thr replaces min_score_thr when truthy (as MMOCR), not when 0
    out = eval_hmean([dict(boundary_result=[pred(0, 0, 10, 10, 0.3)])], infos(1), gts,
                     score_thr=0.2)
    assert out["hmean-iou:recall"] == 1.0
    out = eval_hmean([dict(boundary_result=[pred(0, 0, 10, 10, 0.3)])], infos(1), gts,
                     score_thr=0)
    assert out["hmean-iou:recall"] == 0.0


def test_thresholds_are_numpy_arange_values():
    thrs = score_thresholds(0.3, 0.9, 0.1)
    assert list(thrs) == list(np.arange(0.3, 1.0, 0.1)) and len(thrs) == 7
    assert thrs[3] == 0.6000000000000001  # so a score of exactly 0.6 is not kept there...
    gts = anns(([box(0, 0, 10, 10)], []))
    results = [dict(boundary_result=[pred(0, 0, 10, 10, 0.6), pred(40, 0, 50, 10, 0.55)])]
    out = eval_hmean(results, infos(1), gts, max_score_thr=0.6)
    # ...the best is at 0.3-0.5 (1 hit of 2 predictions), not 1 of 1 at "0.6"
    assert out["hmean-iou:precision"] == 0.5
    assert list(score_thresholds(0.5, 0.5, 0.1)) == [0.5]


def test_self_intersecting_polygons_are_cleaned_for_overlap_only():
    # a bow tie over the square [0, 10]^2: its cleaned shape is the two triangles (area 50)
    bow = [0, 0, 10, 10, 10, 0, 0, 10]
    res, _ = eval_hmean_iou([[bow]], [[box(0, 0, 10, 10)]], [[]])
    assert res["num_match"] == 0  # IoU 50/100, not above 0.5
    # its raw (signed) area is 0, so it is never taken for a don't-care prediction
    res, _ = eval_hmean_iou([[bow]], [[]], [[box(0, 0, 10, 10)]])
    assert res["num_dets"] == 1


def test_ic13_one_to_one_and_one_to_many():
    gts = [[box(0, 0, 100, 10)]]
    res, _ = eval_hmean_ic13([[box(0, 0, 100, 10)]], gts, [[]])
    assert (res["recall"], res["precision"]) == (1.0, 1.0)
    # a word split in two predictions: one-to-many, 0.8 each way
    res, _ = eval_hmean_ic13([[box(0, 0, 50, 10), box(50, 0, 100, 10)]], gts, [[]])
    assert res["num_recall"] == 0.8 and res["num_precision"] == 1.6
    assert res["recall"] == 0.8 and res["precision"] == 0.8
    out = eval_hmean([dict(boundary_result=[pred(0, 0, 100, 10, 0.9)])], infos(1),
                     anns((gts[0], [])), metrics=["hmean-ic13", "hmean-iou"])
    assert list(out) == ["hmean-iou:recall", "hmean-iou:precision", "hmean-iou:hmean",
                         "hmean-ic13:recall", "hmean-ic13:precision", "hmean-ic13:hmean"]


def test_errors_and_rank_list(tmp_path):
    with pytest.raises(UserError, match="min_score_thr"):
        score_thresholds(0.9, 0.3, 0.1)
    with pytest.raises(UserError, match="step"):
        score_thresholds(0.3, 0.9, 0)
    with pytest.raises(UserError, match="no score threshold"):
        score_thresholds(1.0, 1.0, 0.1)
    with pytest.raises(UserError, match="'hmean-ic15'"):
        eval_hmean([dict(boundary_result=[])], infos(1), anns(([], [])), metrics=["hmean-ic15"])
    with pytest.raises(UserError, match="2 results for 1 images"):
        eval_hmean([dict(boundary_result=[])] * 2, infos(1), anns(([], [])))
    with pytest.raises(UserError, match="k >= 4"):  # a triangle, as MMOCR refuses it
        eval_hmean([dict(boundary_result=[[0, 0, 9, 0, 9, 9, 0.9]])], infos(1), anns(([], [])))
    with pytest.raises(UserError, match=r"masks: .* \(got 6\)"):
        eval_hmean([dict(boundary_result=[])], infos(1), anns(([[0, 0, 9, 0, 9, 9]], [])))
    rank = tmp_path / "rank.json"
    eval_hmean([dict(boundary_result=[]), dict(boundary_result=[pred(0, 0, 9, 9, .9)])],
               infos(2), anns(([box(0, 0, 9, 9)], []), ([box(0, 0, 9, 9)], [])),
               rank_list=str(rank))
    rows = json.loads(rank.read_text())
    assert [r["file_name"] for r in rows] == ["img_0.jpg", "img_1.jpg"]
    assert rows[0]["hmean"] == 0.0 and rows[1]["hmean"] == 1.0

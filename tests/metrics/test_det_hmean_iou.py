"""hmean-iou on hand-made cases: matches, misses, don't-care regions, the threshold sweep."""
import json

import pytest

from ocr_ds.errors import UserError
from ocr_ds.metrics.hmean_iou import (compute_hmean, eval_hmean, eval_hmean_iou,
                                      score_thresholds)


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
    assert compute_hmean(0, 0, 0) == (1.0, 1.0, 1.0)
    assert compute_hmean(0, 0, 3) == (1.0, 0.0, 0.0)


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


def test_threshold_sweep_picks_best_hmean():
    gts = [[box(0, 0, 10, 10), box(20, 0, 30, 10)]]
    results = [dict(boundary_result=[pred(0, 0, 10, 10, 0.95), pred(20, 0, 30, 10, 0.55),
                                     pred(50, 50, 60, 60, 0.45), pred(70, 70, 80, 80, 0.25)])]
    out = eval_hmean(results, gts, [[]])
    # thr 0.3/0.4: 2 hits of 3 -> hmean 0.8; thr 0.5: 2 of 2 -> 1.0 (best); thr 0.6+: 1 of 1
    assert out == {"hmean-iou:recall": 1.0, "hmean-iou:precision": 1.0, "hmean-iou:hmean": 1.0}
    # only thresholds up to 0.4: the 0.45 false positive always counts
    out = eval_hmean(results, gts, [[]], max_score_thr=0.4)
    assert out["hmean-iou:precision"] == pytest.approx(2 / 3)
    assert out["hmean-iou:hmean"] == pytest.approx(0.8)


def test_scores_at_or_below_min_threshold_never_count():
    gts = [[box(0, 0, 10, 10)]]
    out = eval_hmean([dict(boundary_result=[pred(0, 0, 10, 10, 0.3)])], gts, [[]])
    assert out["hmean-iou:recall"] == 0.0


def test_score_thresholds_and_errors(tmp_path):
    assert score_thresholds(0.3, 0.9, 0.1) == [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    assert score_thresholds(0.5, 0.5, 0.1) == [0.5]
    with pytest.raises(UserError, match="min_score_thr"):
        score_thresholds(0.9, 0.3, 0.1)
    with pytest.raises(UserError, match="hmean-ic13"):
        eval_hmean([dict(boundary_result=[])], [[]], [[]], metrics=["hmean-ic13"])
    with pytest.raises(UserError, match="2 results for 1 images"):
        eval_hmean([dict(boundary_result=[])] * 2, [[]], [[]])
    rank = tmp_path / "rank.json"
    eval_hmean([dict(boundary_result=[]), dict(boundary_result=[pred(0, 0, 9, 9, .9)])],
               [[box(0, 0, 9, 9)], [box(0, 0, 9, 9)]], [[], []], img_names=["a", "b"],
               rank_list=str(rank))
    rows = json.loads(rank.read_text())
    assert [r["file_name"] for r in rows] == ["a", "b"] and rows[0]["hmean"] == 0.0

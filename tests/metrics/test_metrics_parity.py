"""The metrics against MMOCR 0.6.3's ``mmocr/core/evaluation`` on the same inputs: seeded random
images (quadrilaterals, CTW1500-style 14-point polygons, bow ties, degenerate polygons, empty
images, don't-care regions, scores on the exact threshold values, float32 scores) and
hand-made edge cases, in every argument form MMOCR accepts. Values must be *equal*, not close.
"""
from __future__ import annotations

import random

import numpy as np

from ocr_ds.metrics.hmean import eval_hmean, get_gt_masks, score_thresholds, split_result, sweep
from ocr_ds.metrics.hmean_ic13 import eval_hmean_ic13
from ocr_ds.metrics.hmean_iou import eval_hmean_iou
from ocr_ds.metrics.polygon import Shape, intersection_area, iou
from ocr_ds.metrics.recog_metric import eval_ocr_metric
from parity import ref_file

REF = ref_file(__file__, "mmocr_metrics.py")
# scores on the thresholds and next to them: the sweep's >= and the min filter's > decide
GRID_SCORES = [0.3, 0.4, 0.5, 0.6, 0.6000000000000001, 0.7, 0.7000000000000001, 0.8, 0.9,
               0.9000000000000001, 0.29999, 0.55, 1.0, 0.0]


def box(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def quad(rng, cx, cy, w, h):
    """A jittered (possibly non-convex) quadrilateral around a centre."""
    pts = [(cx - w, cy - h), (cx + w, cy - h), (cx + w, cy + h), (cx - w, cy + h)]
    return [round(v + rng.uniform(-w / 3, w / 3), 1) for p in pts for v in p]


def curved(rng, cx, cy, w, h, k=7):
    """A CTW1500-like polygon: k points along the top, k back along the bottom."""
    xs = [cx - w + 2 * w * i / (k - 1) for i in range(k)]
    bend = rng.uniform(-h, h)
    top = [(x, cy - h + bend * ((x - cx) / w) ** 2) for x in xs]
    bottom = [(x, cy + h + bend * ((x - cx) / w) ** 2) for x in reversed(xs)]
    return [round(v + rng.uniform(-0.5, 0.5), 2) for p in top + bottom for v in p]


def bow_tie(rng, cx, cy, w, h):
    return [cx - w, cy - h, cx + w, cy + h, cx + w, cy - h, cx - w, cy + h]


def degenerate(rng, cx, cy, w, h):
    kind = rng.choice(["line", "point", "spike"])
    if kind == "line":
        return [cx - w, cy, cx, cy, cx + w, cy, cx + w / 2, cy]
    if kind == "point":
        return [cx, cy] * 4
    return [cx - w, cy - h, cx + w, cy - h, cx + w, cy + h, cx + w, cy - h]  # folds back


def random_images(seed, n, shapes=("quad", "curved", "bow", "degenerate"), quads_only=False):
    """n images: ground truths, don't-care regions, and predictions near them."""
    rng = random.Random(seed)
    makers = dict(quad=quad, curved=curved, bow=bow_tie, degenerate=degenerate)
    results, infos, anns = [], [], []
    for i in range(n):
        gts, ign, preds = [], [], []
        if rng.random() > 0.15:  # some images are empty
            for _ in range(rng.randint(0, 6)):
                cx, cy = rng.uniform(10, 190), rng.uniform(10, 190)
                w, h = rng.uniform(3, 30), rng.uniform(2, 10)
                kind = "quad" if quads_only else rng.choice(
                    ["quad"] * 4 + [s for s in shapes if s != "quad"])
                poly = makers[kind](rng, cx, cy, w, h)
                (ign if rng.random() < 0.2 else gts).append(poly)
                for _ in range(rng.choice([0, 1, 1, 1, 2])):
                    jitter = rng.choice([0.5, 2, 5, 10])
                    preds.append([round(v + rng.uniform(-jitter, jitter), 1) for v in poly])
            for _ in range(rng.randint(0, 2)):  # false positives
                cx, cy = rng.uniform(10, 190), rng.uniform(10, 190)
                preds.append(quad(rng, cx, cy, rng.uniform(3, 20), rng.uniform(2, 8)))
        boundaries = [p + [rng.choice(GRID_SCORES) if rng.random() < 0.5
                           else round(rng.random(), 3)] for p in preds]
        results.append(dict(boundary_result=boundaries))
        infos.append(dict(filename=f"img_{i}.jpg"))
        anns.append(dict(masks=[[g] for g in gts], masks_ignore=[[g] for g in ign]))
    return results, infos, anns


def hand_made():
    """Edge cases: IoU exactly 0.5, covering a don't-care region by exactly half, a bow tie
    on a box and on a don't-care box (raw area 0: never ignored), a prediction on a
    degenerate ground truth, integer coordinates."""
    results = [
        dict(boundary_result=[box(0, 0, 20, 10) + [0.9], box(30, 0, 45, 10) + [0.6]]),
        dict(boundary_result=[box(0, 0, 20, 10) + [0.7], box(50, 50, 60, 60) + [0.5]]),
        dict(boundary_result=[[0, 0, 10, 10, 10, 0, 0, 10, 0.8], box(0, 0, 10, 10) + [0.8]]),
        dict(boundary_result=[box(0, 0, 10, 10) + [0.95]]),
        dict(boundary_result=[]),
        dict(boundary_result=[[0, 0, 10, 10, 10, 0, 0, 10, 0.8], box(20, 0, 30, 10) + [0.8]]),
    ]
    anns = [
        dict(masks=[[box(0, 0, 10, 10)], [box(30, 0, 50, 10)]], masks_ignore=[]),
        dict(masks=[], masks_ignore=[[box(0, 0, 10, 10)], [box(50, 50, 60, 70)]]),
        dict(masks=[[box(0, 0, 10, 10)]], masks_ignore=[]),
        dict(masks=[[[0, 0, 10, 0, 20, 0, 5, 0]]], masks_ignore=[]),
        dict(masks=[[box(0, 0, 5, 5)]], masks_ignore=[[box(9, 9, 12, 12)]]),
        dict(masks=[[box(20, 0, 30, 10)]], masks_ignore=[[box(0, 0, 10, 10)]]),
    ]
    return results, [dict(filename=f"h{i}.jpg") for i in range(len(results))], anns


def _cases():
    res, infos, anns = random_images(1, 40)
    qres, qinfos, qanns = random_images(2, 30, quads_only=True)
    hres, hinfos, hanns = hand_made()
    cases = []

    def add(r, i, a, f32=False, **kwargs):
        cases.append(dict(results=r, img_infos=i, ann_infos=a, kwargs=kwargs, f32=f32))

    add(res, infos, anns)
    add(res, infos, anns, f32=True)
    add(res, infos, anns, min_score_thr=0.5, max_score_thr=0.8, step=0.05)
    add(res, infos, anns, min_score_thr=0.0, max_score_thr=1.0, step=0.25)
    add(res, infos, anns, min_score_thr=0.95, max_score_thr=0.95)
    add(res, infos, anns, score_thr=0.5)  # MMOCR's deprecated spelling
    add(res, infos, anns, score_thr=0)   # falsy: ignored, as MMOCR does
    # hmean-ic13 on its own edges: recalls adding up to exactly 0.8 (one-to-many), precisions
    # to exactly 0.4 (many-to-one), a precision of exactly 0.4 (not > 0.4: no one-to-one)
    ic13_res = [dict(boundary_result=[box(0, 0, 40, 10) + [0.9], box(40, 0, 80, 10) + [0.9]]),
                dict(boundary_result=[box(0, 0, 100, 10) + [0.9]]),
                dict(boundary_result=[box(0, 0, 100, 10) + [0.9]])]
    ic13_anns = [dict(masks=[[box(0, 0, 100, 10)]], masks_ignore=[]),
                 dict(masks=[[box(0, 0, 20, 10)], [box(20, 0, 40, 10)]], masks_ignore=[]),
                 dict(masks=[[box(0, 0, 40, 10)]], masks_ignore=[])]
    add(qres + ic13_res, qinfos + hinfos[:3], qanns + ic13_anns,
        metrics=["hmean-iou", "hmean-ic13"])
    add(qres, qinfos, qanns, metrics=["hmean-ic13"], f32=True)
    add(hres, hinfos, hanns)
    add(hres[:2] + hres[4:], hinfos[:2] + hinfos[4:], hanns[:2] + hanns[4:],
        metrics=["hmean-ic13", "hmean-iou"], min_score_thr=0.1)
    add([], [], [])
    return cases


def _ours(case):
    results = case["results"]
    if case["f32"]:
        results = [dict(boundary_result=[b[:-1] + [np.float32(b[-1])]
                                         for b in r["boundary_result"]]) for r in results]
    return eval_hmean(results, case["img_infos"], case["ann_infos"], **case["kwargs"])


def test_hmean_sweep_equals_mmocr(mmocr_ref):
    cases = _cases()
    theirs = mmocr_ref.call(REF, "hmean_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        ours = _ours(case)
        assert ours == ref, f"case {i} ({case['kwargs']}, f32={case['f32']}): {ours} != {ref}"
    # the cases are not trivial: some hmeans strictly between 0 and 1
    assert any(0 < v < 1 for r in theirs for k, v in r.items() if k.endswith(":hmean"))


def _our_sweep(case):
    kw = case["kwargs"]
    lo = kw.get("min_score_thr", 0.3)
    results = case["results"]
    if case["f32"]:
        results = [dict(boundary_result=[b[:-1] + [np.float32(b[-1])]
                                         for b in r["boundary_result"]]) for r in results]
    thrs = score_thresholds(lo, kw.get("max_score_thr", 0.9), kw.get("step", 0.1))
    gts, ign = get_gt_masks(case["ann_infos"])
    split = [split_result(r, i, float(lo)) for i, r in enumerate(results)]
    preds, scores = [p for p, _ in split], [s for _, s in split]
    return {m: [(float(t), r, per) for t, r, per in sweep(m, preds, scores, gts, ign, thrs)]
            for m in kw.get("metrics", ["hmean-iou"])}


def test_every_threshold_of_the_sweep_equals_mmocr(mmocr_ref):
    """Not only the best row: every threshold's data-set and per-image values."""
    cases = [c for c in _cases() if not c["kwargs"].get("score_thr")]
    theirs = mmocr_ref.call(REF, "sweep_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        ours = _our_sweep(case)
        assert list(ours) == list(ref)
        for metric in ref:
            assert [t for t, _, _ in ours[metric]] == [t for t, _, _ in ref[metric]]
            for (thr, a, a_img), (_, b, b_img) in zip(ours[metric], ref[metric]):
                assert (a, a_img) == (b, b_img), f"case {i} {metric} thr {thr!r}: {a} != {b}"


def test_polygon_geometry_equals_mmocr(mmocr_ref):
    """IoU, intersection and raw areas of random pairs, bow ties and degenerate ones included,
    to the last bit."""
    rng = random.Random(6)
    makers = [quad, curved, bow_tie, degenerate]
    pairs = []
    for _ in range(150):
        cx, cy, w, h = rng.uniform(20, 40), rng.uniform(20, 40), rng.uniform(3, 15), rng.uniform(2, 8)
        det = rng.choice(makers)(rng, cx, cy, w, h)
        gt = rng.choice(makers)(rng, cx + rng.uniform(-5, 5), cy + rng.uniform(-3, 3), w, h)
        pairs.append((det, gt))
    theirs = mmocr_ref.call(REF, "geometry", pairs=pairs)
    ours = []
    for det, gt in pairs:
        d, g = Shape(det), Shape(gt)
        ours.append((iou(d, g), intersection_area(d, g), d.area, g.area))
    assert ours == [tuple(t) for t in theirs]
    assert sum(0.3 < t[0] < 0.7 for t in theirs) > 10


def test_per_image_results_equal_mmocr(mmocr_ref):
    """One threshold, every prediction: data-set and per-image values of both protocols."""
    res, _, anns = random_images(3, 40)
    preds = [[b[:-1] for b in r["boundary_result"]] for r in res]
    gts = [[m[0] for m in a["masks"]] for a in anns]
    ign = [[m[0] for m in a["masks_ignore"]] for a in anns]
    theirs = mmocr_ref.call(REF, "per_image", preds=preds, gts=gts, ignored=ign, ic13=False)
    assert list(eval_hmean_iou(preds, gts, ign)) == list(theirs["iou"])
    qres, _, qanns = random_images(4, 40, quads_only=True)
    preds = [[b[:-1] for b in r["boundary_result"]] for r in qres]
    gts = [[m[0] for m in a["masks"]] for a in qanns]
    ign = [[m[0] for m in a["masks_ignore"]] for a in qanns]
    theirs = mmocr_ref.call(REF, "per_image", preds=preds, gts=gts, ignored=ign)
    assert list(eval_hmean_iou(preds, gts, ign)) == list(theirs["iou"])
    assert list(eval_hmean_ic13(preds, gts, ign)) == list(theirs["ic13"])
    assert 0 < theirs["ic13"][0]["hmean"] < 1 and 0 < theirs["iou"][0]["hmean"] < 1


def _text(rng):
    alphabet = "aAbBcC019 -_.,!?'#^\u4e2d\u6587\u00e9\u00df"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))


def test_recognition_metrics_equal_mmocr(mmocr_ref):
    rng = random.Random(5)
    gts = [_text(rng) for _ in range(60)]
    preds = [g if rng.random() < 0.3 else (g.upper() if rng.random() < 0.3 else _text(rng))
             for g in gts]
    metrics = ["acc", ["acc"], "word_acc", "word_acc_ignore_case", "word_acc_ignore_case_symbol",
               "char_recall", "char_precision", "one_minus_ned", ["one_minus_ned", "word_acc"]]
    cases = [dict(pred=preds, gt=gts, metric=m) for m in metrics]
    cases += [dict(pred=[], gt=[], metric="acc"), dict(pred=[""], gt=[""], metric="acc"),
              dict(pred=["^^", "a^b"], gt=["", "AB"], metric="acc")]
    theirs = mmocr_ref.call(REF, "ocr_cases", cases=cases)
    for case, ref in zip(cases, theirs):
        ours = eval_ocr_metric(case["pred"], case["gt"], metric=case["metric"])
        assert ours == ref and list(ours) == list(ref), (case["metric"], ours, ref)

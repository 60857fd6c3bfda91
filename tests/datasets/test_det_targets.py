"""DBNetTargets and PSENetTargets on hand-made polygons."""
import numpy as np
import pytest

from ocr_ds.datasets.pipelines.textdet_targets import (DBNetTargets, PSENetTargets,
                                                       shrink_distance)
from ocr_ds.errors import UserError


def rect(x0, y0, x1, y1):
    return np.array([x0, y0, x1, y0, x1, y1, x0, y1], np.float32)


def results(polys, ignored=(), size=(100, 200)):
    return dict(img=np.zeros(size + (3,), np.float32), gt_masks=list(polys),
                gt_masks_ignore=list(ignored), mask_fields=["gt_masks", "gt_masks_ignore"],
                bbox_fields=[], seg_fields=[], gt_labels=np.zeros(len(polys)))


def test_shrink_distance_formula():
    # 100 x 20 box: A = 2000, L = 240, r = 0.4 -> d = 2000 * 0.84 / 240 = 7
    assert shrink_distance(rect(0, 0, 100, 20).reshape(-1, 2), 0.4) == 7
    assert shrink_distance(rect(0, 0, 100, 20).reshape(-1, 2), 1.0) == 0
    assert shrink_distance(rect(0, 0, 100, 20).reshape(-1, 2), 0.4, max_shrink=3) == 3


def test_dbnet_targets_shrink_threshold_and_masks():
    out = DBNetTargets(shrink_ratio=0.4)(results([rect(20, 30, 120, 50)]))
    for key in ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask"):
        assert out[key].shape == (100, 200) and key in out["seg_fields"]
    assert "gt_masks" not in out and out["mask_fields"] == []
    shrink = out["gt_shrink"]
    assert shrink.dtype == np.uint8
    ys, xs = np.nonzero(shrink)
    # shrunk by 7 px on every side (pyclipper round joins; fillPoly includes the border)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (27, 113, 37, 43)
    assert out["gt_shrink_mask"].all()
    thr = out["gt_thr"]
    assert thr.dtype == np.float32
    assert thr.min() == pytest.approx(0.3) and thr.max() == pytest.approx(0.7)
    assert thr[30, 70] == pytest.approx(0.7)      # on the text border: maximal
    assert thr[40, 70] == pytest.approx(0.3)      # 10 px inside (> d = 7): background value
    assert thr[5, 5] == pytest.approx(0.3)
    mask = out["gt_thr_mask"]
    assert mask[30, 70] == 1 and mask[24, 70] == 1 and mask[40, 70] == 1 and mask[5, 5] == 0


def test_dbnet_targets_ignores_dont_care_and_tiny_texts():
    polys = [rect(10, 10, 60, 40), rect(100, 10, 160, 14)]      # the second is 4 px high
    out = DBNetTargets(min_short_size=8)(results(polys, ignored=[rect(100, 60, 180, 90)]))
    eff = out["gt_shrink_mask"]
    assert eff[75, 140] == 0                        # ### region
    assert eff[12, 130] == 0                        # too thin: moved to the ignored set
    assert eff[25, 35] == 1
    assert out["gt_shrink"][12, 130] == 0 and out["gt_shrink"][25, 35] == 1
    assert out["gt_thr_mask"][12, 130] == 0         # no threshold band for ignored texts


def test_psenet_targets_nested_kernels():
    out = PSENetTargets()(results([rect(20, 20, 180, 80)], ignored=[rect(0, 0, 10, 10)]))
    kernels = out["gt_kernels"]
    assert kernels.shape == (7, 100, 200) and kernels.dtype == np.uint8
    areas = kernels.reshape(7, -1).sum(1)
    assert all(a > b for a, b in zip(areas, areas[1:]))            # shrinking
    assert np.all(kernels[1:] <= kernels[:-1])                      # nested
    assert areas[0] == pytest.approx(161 * 61, rel=0.02)            # ratio 1.0: the text
    # smallest kernel: ratio 0.4 of a 160 x 60 box -> d = 9600 * 0.84 / 440 = 18 (< 20)
    ys, xs = np.nonzero(kernels[-1])
    assert (ys.min(), ys.max()) == (38, 62)
    assert out["gt_mask"][5, 5] == 0 and out["gt_mask"][50, 100] == 1
    assert set(out["seg_fields"]) == {"gt_kernels", "gt_mask"}


def test_bad_ratios():
    with pytest.raises(UserError, match="shrink_ratio"):
        DBNetTargets(shrink_ratio=0)
    with pytest.raises(UserError, match="shrink_ratio"):
        PSENetTargets(shrink_ratio=(1.0, 1.5))

"""DBNet's post-processing recovers known boxes (shrunk kernels + unclip); points2boundary."""
import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_targets import DBNetTargets
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.postprocess import DBPostprocessor, points2boundary, unclip


def iou(a, b):
    pa, pb = Polygon(np.reshape(a, (-1, 2))), Polygon(np.reshape(b, (-1, 2)))
    return pa.intersection(pb).area / pa.union(pb).area


BOXES = [np.array([20, 20, 120, 20, 120, 44, 20, 44], float),
         np.array([40, 80, 180, 80, 180, 110, 40, 110], float)]


def db_maps(size=(140, 200)):
    """The DB shrink map of BOXES, used as a (perfect) probability map."""
    res = dict(img=np.zeros(size + (3,), np.float32), gt_masks=list(BOXES), gt_masks_ignore=[],
               mask_fields=[], bbox_fields=[], seg_fields=[])
    shrink = DBNetTargets()(res)["gt_shrink"].astype(np.float32)
    return torch.from_numpy(np.stack([shrink * 0.9, shrink, shrink]))


@pytest.mark.parametrize("repr_type", ["quad", "poly"])
def test_db_postprocessor_recovers_boxes(repr_type):
    out = DBPostprocessor(text_repr_type=repr_type)(db_maps())
    assert len(out) == 2
    for b in out:
        assert b[-1] == pytest.approx(0.9, abs=1e-3)          # mean probability inside
        # unclip 1.5 undoes shrink 0.4 only roughly: for 100 x 24 text the kernel is 84 x 8
        # and grows back by 5.5 px, to about 95 x 19 (IoU 0.7-0.75), as in MMOCR
        assert max(iou(b[:-1], gt) for gt in BOXES) > 0.65
    if repr_type == "quad":
        assert all(len(b) == 9 for b in out)


def test_db_postprocessor_filters_low_scores_and_small_regions():
    maps = db_maps()
    assert DBPostprocessor(min_text_score=0.95)(maps) == []
    maps[0] = maps[0] * 0.2                                     # below mask_thr 0.3
    assert DBPostprocessor()(maps) == []
    with pytest.raises(UserError, match="text_repr_type"):
        DBPostprocessor(text_repr_type="box")


def test_unclip_and_points2boundary():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    grown = unclip(square, 1.5)                                  # d = 100 * 1.5 / 40 = 3.75
    xs, ys = grown[:, 0], grown[:, 1]
    assert xs.min() == pytest.approx(-3.75, abs=0.6) and ys.max() == pytest.approx(13.75, abs=0.6)
    quad = points2boundary(square, "quad", 0.5)
    assert len(quad) == 9 and quad[-1] == 0.5
    assert iou(quad[:-1], square.reshape(-1)) == pytest.approx(1.0)
    assert points2boundary(square, "quad", 0.5, min_width=20) is None
    pixels = np.stack(np.meshgrid(np.arange(5, 15), np.arange(3, 9)), -1).reshape(-1, 2)
    poly = points2boundary(pixels, "poly")
    assert np.reshape(poly, (-1, 2)).min(0).tolist() == [5, 3]
    assert np.reshape(poly, (-1, 2)).max(0).tolist() == [14, 8]

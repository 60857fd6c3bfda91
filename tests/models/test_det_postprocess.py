"""Post-processing recovers known boxes: PSENet (expansion) and the shared helpers (DBNet:
tests/models/dbnet)."""
import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_targets import PSENetTargets
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.postprocess import points2boundary
from ocr_ds.models.textdet.pse_postprocess import PSEPostprocessor, expand_kernels


def iou(a, b):
    pa, pb = Polygon(np.reshape(a, (-1, 2))), Polygon(np.reshape(b, (-1, 2)))
    return pa.intersection(pb).area / pa.union(pb).area


def test_points2boundary():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    quad = points2boundary(square, "quad", 0.5)
    assert len(quad) == 9 and quad[-1] == 0.5
    assert iou(quad[:-1], square.reshape(-1)) == pytest.approx(1.0)
    assert points2boundary(square, "quad", 0.5, min_width=20) is None
    pixels = np.stack(np.meshgrid(np.arange(5, 15), np.arange(3, 9)), -1).reshape(-1, 2)
    poly = points2boundary(pixels, "poly")
    assert np.reshape(poly, (-1, 2)).min(0).tolist() == [5, 3]
    assert np.reshape(poly, (-1, 2)).max(0).tolist() == [14, 8]


def test_expand_kernels_breadth_first():
    kernels = np.zeros((2, 1, 9), np.uint8)
    kernels[0, 0, :] = 1                                         # the text: one row of 9
    seeds = np.zeros((1, 9), np.int32)
    seeds[0, 1], seeds[0, 7] = 1, 2                              # two seeds
    labels = expand_kernels(kernels, seeds)
    # each pixel goes to the nearer seed; the middle one (equidistant) to the first found
    assert labels[0].tolist() == [1, 1, 1, 1, 1, 2, 2, 2, 2] or \
        labels[0].tolist() == [1, 1, 1, 1, 2, 2, 2, 2, 2]
    assert (expand_kernels(kernels, seeds, min_kernel_area=2) == 0).all()


def test_pse_postprocessor_separates_touching_texts():
    # two boxes that touch at full size; their shrunk kernels are apart
    boxes = [np.array([4, 4, 60, 4, 60, 24, 4, 24], float),
             np.array([4, 25, 60, 25, 60, 45, 4, 45], float)]
    res = dict(img=np.zeros((50, 64, 3), np.float32), gt_masks=boxes, gt_masks_ignore=[],
               mask_fields=[], bbox_fields=[], seg_fields=[])
    kernels = PSENetTargets()(res)["gt_kernels"].astype(np.float32)
    logits = torch.from_numpy(kernels * 20 - 10)
    for repr_type in ("poly", "quad"):
        out = PSEPostprocessor(text_repr_type=repr_type)(logits)
        assert len(out) == 2
        for b in out:
            assert max(iou(b[:-1], gt) for gt in boxes) > 0.8
            assert b[-1] > 0.99
    assert PSEPostprocessor(min_text_area=5000)(logits) == []
    with pytest.raises(UserError, match="min_kernel_confidence"):
        PSEPostprocessor(min_kernel_confidence=2)

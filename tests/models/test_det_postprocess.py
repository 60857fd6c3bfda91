"""points2boundary, the helper the post-processors share (DBNet's post-processing:
tests/models/dbnet; PSENet's: tests/models/psenet)."""
import numpy as np
import pytest
from shapely.geometry import Polygon

from ocr_ds.models.textdet.postprocess import points2boundary


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

"""Bezier-curve text boundaries (ABCNet / AdelaiDet annotations) as polygons: MMOCR 0.6.3's
``mmocr.utils.bezier_to_polygon`` and ``sort_points``, the same arithmetic in the same order
(so the polygons are bit-identical to MMOCR's)."""
from __future__ import annotations

import math
import operator
from functools import reduce
from typing import Any

import numpy as np


def bezier_to_polygon(bezier_points: Any, num_sample: int = 20) -> list[list[float]]:
    """``2 * num_sample`` points on the two cubic Bezier curves of 8 control points (a (2, 4, 2)
    array or its 16 numbers), one curve after the other (not ordered: see ``sort_points``)."""
    bezier_points = np.asarray(bezier_points)
    bezier = bezier_points.reshape(2, 4, 2).transpose(0, 2, 1).reshape(4, 4)
    u = np.linspace(0, 1, num_sample)
    points = np.outer((1 - u) ** 3, bezier[:, 0]) \
        + np.outer(3 * u * ((1 - u) ** 2), bezier[:, 1]) \
        + np.outer(3 * (u ** 2) * (1 - u), bezier[:, 2]) \
        + np.outer(u ** 3, bezier[:, 3])
    points = np.concatenate((points[:, :2], points[:, 2:]), axis=0)
    return points.tolist()


def sort_points(points: list[list[float]]) -> list[list[float]]:
    """The points of a convex polygon in clockwise order around their mean (MMOCR's order)."""
    center = tuple(map(operator.truediv, reduce(lambda x, y: map(operator.add, x, y), points),
                       [len(points)] * 2))
    return sorted(points, key=lambda coord: (180 + math.degrees(
        math.atan2(*tuple(map(operator.sub, coord, center))))) % 360)

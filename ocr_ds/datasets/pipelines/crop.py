"""Text crops from whole images, as MMOCR 0.6.3's ``mmocr.datasets.pipelines.crop``:
``crop_img`` (the padded axis-aligned box: the end-to-end OCR tool, the recognition
converters), ``warp_img`` (the quadrangle warped upright, with MMOCR's optional box jitter:
labelme's converter, ``OnlineCropOCR``) and the pipeline step ``OnlineCropOCR``."""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
from shapely.geometry import LineString, Point

from ocr_ds.errors import bad_value


def crop_img(src_img: np.ndarray, box: Sequence[float], long_edge_pad_ratio: float = 0.4,
             short_edge_pad_ratio: float = 0.2) -> np.ndarray:
    """MMOCR's ``crop_img``: the axis-aligned box around the quadrangle ``box`` (8 numbers),
    padded by a share of its short side (``long_edge_pad_ratio`` along the long side), clipped
    to the image."""
    h, w = src_img.shape[:2]
    points_x = np.clip(np.array(box[0::2]), 0, w)
    points_y = np.clip(np.array(box[1::2]), 0, h)
    box_width = np.max(points_x) - np.min(points_x)
    box_height = np.max(points_y) - np.min(points_y)
    font_size = min(box_height, box_width)
    if box_height < box_width:
        horizontal_pad, vertical_pad = (long_edge_pad_ratio * font_size,
                                        short_edge_pad_ratio * font_size)
    else:
        horizontal_pad, vertical_pad = (short_edge_pad_ratio * font_size,
                                        long_edge_pad_ratio * font_size)
    left = np.clip(int(np.min(points_x) - horizontal_pad), 0, w)
    top = np.clip(int(np.min(points_y) - vertical_pad), 0, h)
    right = np.clip(int(np.max(points_x) + horizontal_pad), 0, w)
    bottom = np.clip(int(np.max(points_y) + vertical_pad), 0, h)
    return src_img[top:bottom, left:right]


def _edges(points_x: Sequence[float], points_y: Sequence[float]) -> list[LineString]:
    points = [Point(points_x[i], points_y[i]) for i in range(4)]
    return [LineString([points[i], points[(i + 1) % 4]]) for i in range(4)]


def warp_img(src_img: np.ndarray, box: Sequence[float], jitter_flag: bool = False,
             jitter_ratio_x: float = 0.5, jitter_ratio_y: float = 0.1) -> np.ndarray:
    """MMOCR's ``warp_img``: the quadrangle ``box`` (clipped to the image, its corners sorted
    clockwise from the top-left as MMOCR's ``sort_vertex`` sorts them) warped onto an upright
    rectangle of its longer edges. With ``jitter_flag`` each corner first moves by up to
    ``jitter_ratio_x``/``_y`` of the box height (MMOCR's ``box_jitter``: two ``np.random.rand``
    draws a corner)."""
    from ocr_ds.datasets.kie.kie_dataset import sort_vertex8

    h, w = src_img.shape[:2]
    points_x = [min(max(x, 0), w) for x in box[0:8:2]]
    points_y = [min(max(y, 0), h) for y in box[1:9:2]]
    ordered = sort_vertex8([v for xy in zip(points_x, points_y) for v in xy])
    points_x, points_y = list(ordered[0::2]), list(ordered[1::2])
    if jitter_flag:
        edges = _edges(points_x, points_y)
        height = max(edges[1].length, edges[3].length)
        for i in range(4):
            points_x[i] += (np.random.rand() - 0.5) * 2 * jitter_ratio_x * height
            points_y[i] += (np.random.rand() - 0.5) * 2 * jitter_ratio_y * height
    edges = _edges(points_x, points_y)
    pts1 = np.float32([[points_x[i], points_y[i]] for i in range(4)])
    box_width = max(edges[0].length, edges[2].length)
    box_height = max(edges[1].length, edges[3].length)
    pts2 = np.float32([[0, 0], [box_width, 0], [box_width, box_height], [0, box_height]])
    matrix = cv2.getPerspectiveTransform(pts1, pts2)
    return cv2.warpPerspective(src_img, matrix, (int(box_width), int(box_height)))


class OnlineCropOCR:
    """MMOCR's ``OnlineCropOCR``: a recognition sample whose ``img_info`` holds a quadrangle
    (``box_keys``, default ``x1, y1, ..., x4, y4``) becomes that text warped upright
    (:func:`warp_img`), its corners jittered unless ``np.random.random() <= jitter_prob`` (as
    MMOCR: jitter when the draw is above ``jitter_prob``) by up to ``max_jitter_ratio_x``/``_y``
    of the box height; a sample without those keys passes unchanged.

    Args:
        box_keys: The ``img_info`` keys of the quadrangle's 8 numbers.
        jitter_prob: See above. Defaults to 0.5.
        max_jitter_ratio_x, max_jitter_ratio_y: Defaults to 0.05, 0.02.
    """

    def __init__(self, box_keys: Sequence[str] = ("x1", "y1", "x2", "y2", "x3", "y3", "x4",
                                                  "y4"),
                 jitter_prob: float = 0.5, max_jitter_ratio_x: float = 0.05,
                 max_jitter_ratio_y: float = 0.02):
        where = "data.train.pipeline.OnlineCropOCR"
        if not (isinstance(box_keys, (list, tuple)) and all(isinstance(k, str)
                                                            for k in box_keys)):
            raise bad_value(f"{where}.box_keys", box_keys, "a list of strings")
        for name, value in (("jitter_prob", jitter_prob),
                            ("max_jitter_ratio_x", max_jitter_ratio_x),
                            ("max_jitter_ratio_y", max_jitter_ratio_y)):
            if not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise bad_value(f"{where}.{name}", value, "a number in [0, 1]")
        self.box_keys = list(box_keys)
        self.jitter_prob = jitter_prob
        self.max_jitter_ratio_x = max_jitter_ratio_x
        self.max_jitter_ratio_y = max_jitter_ratio_y

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        info = results.get("img_info")
        if info is None or any(key not in info for key in self.box_keys):
            return results
        box = [float(info[key]) for key in self.box_keys]
        jitter = np.random.random() > self.jitter_prob
        crop = warp_img(results["img"], box, jitter_flag=jitter,
                        jitter_ratio_x=float(self.max_jitter_ratio_x),
                        jitter_ratio_y=float(self.max_jitter_ratio_y))
        results["img"] = crop
        results["img_shape"] = crop.shape
        return results

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(box_keys={self.box_keys}, jitter_prob="
                f"{self.jitter_prob}, max_jitter_ratio_x={self.max_jitter_ratio_x}, "
                f"max_jitter_ratio_y={self.max_jitter_ratio_y})")

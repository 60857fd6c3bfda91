"""What ``python -m ocr_ds.tools.ocr`` does to boxes and pictures, as MMOCR 0.6.3 does it.

``crop_box`` (the quadrangle ``crop_img`` crops), ``stitch_boxes_into_lines`` and
``is_on_same_line`` (``mmocr.utils.box_util``), ``det_recog_show_result`` with its
``draw_polygons`` / ``draw_texts`` (``mmocr.core.visualize``), and the end-to-end result of one
image (``MMOCR.det_recog_kie_inference``'s box loop).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.pipelines.crop import crop_img
from ocr_ds.engine.show import COLORS


def crop_box(boundary: Sequence[float]) -> list[float]:
    """The quadrangle MMOCR crops for a ``[x1, y1, ..., score]`` boundary: its first four
    points, or the bounding rectangle of a longer polygon."""
    if len(boundary) > 9:
        xs, ys = boundary[0:-1:2], boundary[1:-1:2]
        return [min(xs), min(ys), max(xs), min(ys), max(xs), max(ys), min(xs), max(ys)]
    return list(boundary[:8])


def is_on_same_line(box_a: Sequence[float], box_b: Sequence[float],
                    min_y_overlap_ratio: float | None = 0.8) -> bool:
    """The boxes overlap vertically by at least ``min_y_overlap_ratio`` of either's height."""
    a_y_min, b_y_min = min(box_a[1::2]), min(box_b[1::2])
    a_y_max, b_y_max = max(box_a[1::2]), max(box_b[1::2])
    if a_y_min > b_y_min:  # a is the upper box
        a_y_min, b_y_min = b_y_min, a_y_min
        a_y_max, b_y_max = b_y_max, a_y_max
    if b_y_min <= a_y_max:
        if min_y_overlap_ratio is None:
            return True
        sorted_y = sorted([b_y_min, b_y_max, a_y_max])
        overlap = sorted_y[1] - sorted_y[0]
        return (overlap >= (a_y_max - a_y_min) * min_y_overlap_ratio
                or overlap >= (b_y_max - b_y_min) * min_y_overlap_ratio)
    return False


def stitch_boxes_into_lines(boxes: list[dict], max_x_dist: float = 10,
                            min_y_overlap_ratio: float = 0.8) -> list[dict]:
    """Word results ``{'box', 'text', ...}`` joined into lines ``{'text', 'box'}`` (texts
    joined by spaces, the box the lines' bounding rectangle), from the leftmost box on; a gap
    wider than ``max_x_dist`` starts a new line."""
    if len(boxes) <= 1:
        return boxes
    merged_boxes = []
    x_sorted = sorted(boxes, key=lambda x: min(x["box"][::2]))
    skip_idxs: set[int] = set()
    for i in range(len(x_sorted)):
        if i in skip_idxs:
            continue
        rightmost = i
        line = [rightmost]
        for j in range(i + 1, len(x_sorted)):
            if j in skip_idxs:
                continue
            if is_on_same_line(x_sorted[rightmost]["box"], x_sorted[j]["box"],
                               min_y_overlap_ratio):
                line.append(j)
                skip_idxs.add(j)
                rightmost = j
        lines = [[line[0]]]
        for k in range(1, len(line)):
            dist = min(x_sorted[line[k]]["box"][::2]) - max(x_sorted[line[k - 1]]["box"][::2])
            if dist > max_x_dist:
                lines.append([])
            lines[-1].append(line[k])
        for group in lines:
            xs = [x for idx in group for x in x_sorted[idx]["box"][::2]]
            ys = [y for idx in group for y in x_sorted[idx]["box"][1::2]]
            x_min, y_min, x_max, y_max = min(xs), min(ys), max(xs), max(ys)
            merged_boxes.append(dict(
                text=" ".join(x_sorted[idx]["text"] for idx in group),
                box=[x_min, y_min, x_max, y_min, x_max, y_max, x_min, y_max]))
    return merged_boxes


def image_result(filename: str, img: np.ndarray, boundaries: Sequence[Sequence[float]],
                 recognise: Callable[[list[np.ndarray]], list[dict]], merge: bool = False,
                 merge_xdist: float = 20) -> dict[str, Any]:
    """``{'filename', 'result': [{'box', 'box_score', 'text', 'text_score'}, ...]}`` of one
    image: each boundary's crop read by ``recognise`` (crops -> ``{'text', 'score'}`` each),
    in the detector's order; with ``merge`` the words stitched into lines. A box wholly
    outside the image (an empty crop: MMOCR's recogniser raises) reads as ``''``, score 0."""
    result, crops = [], []
    for b in boundaries:
        result.append(dict(box=[round(float(x)) for x in b[:-1]], box_score=float(b[-1]),
                           text="", text_score=0.0))
        crops.append(crop_img(img, crop_box([float(x) for x in b])))
    read = [i for i, crop in enumerate(crops) if crop.size]
    for i, pred in zip(read, recognise([crops[i] for i in read]) if read else []):
        result[i]["text"], result[i]["text_score"] = pred["text"], pred["score"]
    if merge:
        result = stitch_boxes_into_lines(result, merge_xdist, 0.5)
    return dict(filename=filename, result=result)


def get_optimal_font_scale(text: str, width: int) -> float:
    """The largest OpenCV font scale (tenths, below 6) at which ``text`` fits ``width``."""
    for scale in reversed(range(0, 60, 1)):
        size = cv2.getTextSize(text, fontFace=cv2.FONT_HERSHEY_SIMPLEX, fontScale=scale / 10,
                               thickness=1)
        if size[0][0] <= width:
            return scale / 10
    return 1


def draw_polygons(img: np.ndarray, polys: Sequence[Sequence[float]]) -> np.ndarray:
    """The image half-covered by the filled polygons (``img`` itself is painted on, as in
    MMOCR)."""
    dst_img = img.copy()
    out_img = dst_img
    for idx, poly in enumerate(polys):
        poly = np.array(poly).reshape((-1, 1, 2)).astype(np.int32)
        cv2.drawContours(img, np.array([poly]), -1, COLORS[idx % len(COLORS)],
                         thickness=cv2.FILLED)
        out_img = cv2.addWeighted(dst_img, 0.5, img, 0.5, 0)
    return out_img


def draw_texts(img: np.ndarray, texts: Sequence[str], boxes: Sequence[Sequence[float]]
               ) -> np.ndarray:
    """A white page of the image's size with each box's outline and text."""
    h, w = img.shape[:2]
    out_img = np.ones((h, w, 3), dtype=np.uint8) * 255
    for idx, (box, text) in enumerate(zip(boxes, texts)):
        pts = np.array([[[x, y] for x, y in zip(box[0::2], box[1::2])]], np.int32)
        cv2.polylines(out_img, [pts.reshape((-1, 1, 2))], True,
                      color=COLORS[idx % len(COLORS)], thickness=1)
        min_x = int(min(box[0::2]))
        max_y = int(np.mean(np.array(box[1::2])) + 0.2 * (max(box[1::2]) - min(box[1::2])))
        font_scale = get_optimal_font_scale(text, int(max(box[0::2]) - min(box[0::2])))
        cv2.putText(out_img, text, (min_x, max_y), cv2.FONT_HERSHEY_SIMPLEX, font_scale,
                    (0, 0, 0), 1)
    return out_img


def det_recog_show_result(img: np.ndarray, end2end_res: dict) -> np.ndarray:
    """The picture ``--output`` writes: the image with its boxes filled in, and beside it the
    texts on white, twice the image's width."""
    boxes = [res["box"] for res in end2end_res["result"]]
    texts = [res["text"] for res in end2end_res["result"]]
    box_vis_img = draw_polygons(img, boxes)
    text_vis_img = draw_texts(img, texts, boxes)
    h, w = img.shape[:2]
    out_img = np.ones((h, w * 2, 3), dtype=np.uint8)
    out_img[:, :w, :] = box_vis_img
    out_img[:, w:, :] = text_vis_img
    return out_img

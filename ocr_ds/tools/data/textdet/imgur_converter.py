"""IMGUR5K annotations -> ``instances_{train,val,test}.json`` (MMOCR 0.6.3's
``tools/data/textdet/imgur_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.imgur_converter data/imgur

Reads ``ROOT/annotations/imgur5k_annotations_<split>.json`` (``index_to_ann_map``: image id ->
annotation ids; ``ann_id``: id -> ``{"bounding_box": "[x_ctr, y_ctr, w, h, angle]", "word":
...}``) with ``ROOT/imgs/<image id>.jpg`` (missing or unreadable images left out, as MMOCR
leaves them out). An oriented box becomes its quadrangle (MMOCR's rotation, in float32, starting
at the corner nearest the top-left of its bounds), the integer bounds of that (floored, clipped
at 0) as ``bbox``, ``area = w * h``. Writes ``ROOT/instances_<split>.json``. Differs: the box
string is read whole (MMOCR drops its last two characters, the ``]`` and the angle's last
digit, so ``[..., 12.5]`` has angle 12 and ``[..., 0]`` is a traceback).
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

from ocr_ds.datasets.textdet.coco_convert import read_image_size, read_json_file
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textdet._common import write_instances

SPLITS = ("train", "val", "test")


def parse_box(text: Any, where: str) -> np.ndarray:
    """``"[x_ctr, y_ctr, w, h, angle]"`` as 5 float64 numbers."""
    try:
        if not (isinstance(text, str) and text.strip().startswith("[")
                and text.strip().endswith("]")):
            raise ValueError
        box = np.array([float(v) for v in text.strip()[1:-1].split(",")], dtype=float)
        if box.size < 5:
            raise ValueError
    except ValueError:
        raise UserError(f'{where}: expected "bounding_box": "[x_ctr, y_ctr, w, h, angle]" '
                        f"(got {text!r})") from None
    return box


def _line_length(p1: Any, p2: Any) -> float:
    return math.sqrt(math.pow(p1[0] - p2[0], 2) + math.pow(p1[1] - p2[1], 2))


def oriented_quad(box: np.ndarray) -> list[float]:
    """MMOCR's ``convert_oriented_box``: the rotated rectangle's corners (float32), starting at
    the one that puts the four nearest to the bounds' corners (``get_best_begin_point_single``)."""
    x_ctr, y_ctr, width, height, angle = box[:5]
    angle = -angle * math.pi / 180
    tl_x, tl_y, br_x, br_y = -width / 2, -height / 2, width / 2, height / 2
    rect = np.array([[tl_x, br_x, br_x, tl_x], [tl_y, tl_y, br_y, br_y]])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    poly = rot.dot(rect)
    x0, x1, x2, x3 = poly[0, :4] + x_ctr
    y0, y1, y2, y3 = poly[1, :4] + y_ctr
    x1_, y1_, x2_, y2_, x3_, y3_, x4_, y4_ = np.array([x0, y0, x1, y1, x2, y2, x3, y3],
                                                      dtype=np.float32)
    pts = [[x1_, y1_], [x2_, y2_], [x3_, y3_], [x4_, y4_]]
    xmin, xmax = min(x1_, x2_, x3_, x4_), max(x1_, x2_, x3_, x4_)
    ymin, ymax = min(y1_, y2_, y3_, y4_), max(y1_, y2_, y3_, y4_)
    dst = [[xmin, ymin], [xmax, ymin], [xmax, ymax], [xmin, ymax]]
    force, best = 100000000.0, 0
    for i in range(4):
        combined = pts[i:] + pts[:i]
        total = sum(_line_length(combined[k], dst[k]) for k in range(4))
        if total < force:
            force, best = total, i
    return np.array(pts[best:] + pts[:best]).reshape(8).tolist()


def read_annotations(root: str, split: str) -> list[tuple[str, tuple[int, int], list]]:
    """``[(image path, (height, width), [(quadrangle, word), ...]), ...]`` of the readable
    images of ``imgur5k_annotations_<split>.json``, in its order."""
    path = os.path.join(root, "annotations", f"imgur5k_annotations_{split}.json")
    if not os.path.exists(path):
        raise UserError(f"{path} not exists, please check and try again.")
    ann = read_json_file(path, "IMGUR annotation file")
    out = []
    try:
        index, anns = ann["index_to_ann_map"], ann["ann_id"]
        for img_name, ann_ids in index.items():
            img_path = os.path.join(root, "imgs", img_name + ".jpg")
            if not os.path.exists(img_path):
                continue
            try:
                size = read_image_size(img_path)
            except UserError:
                continue
            words = [(oriented_quad(parse_box(anns[i]["bounding_box"], f"{path}: {i}")),
                      anns[i]["word"]) for i in ann_ids]
            out.append((img_path, size, words))
    except (KeyError, TypeError, AttributeError):
        raise UserError(f'{path}: expected {{"index_to_ann_map": {{IMAGE: [ID, ...]}}, "ann_id": '
                        f'{{ID: {{"bounding_box": "[...]", "word": ...}}}}}}') from None
    return out


def image_info(img_path: str, size: tuple[int, int], words: list) -> dict[str, Any]:
    anno_info = []
    for quad, _ in words:
        xs, ys = quad[::2], quad[1::2]
        x, y = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
        w, h = math.floor(max(xs)) - x, math.floor(max(ys)) - y
        anno_info.append(dict(iscrowd=0, category_id=1, bbox=[x, y, w, h], area=w * h,
                              segmentation=[quad]))
    return dict(file_name=os.path.basename(img_path), height=size[0], width=size[1],
                anno_info=anno_info)


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.imgur_converter",
                  description="Generate training, validation and test set of IMGUR")
    p.add_argument("root_path", help="Root dir path of IMGUR")
    args = p.parse_args(argv)
    return write_instances(args.root_path, {
        split: [image_info(*item) for item in read_annotations(args.root_path, split)]
        for split in SPLITS})


if __name__ == "__main__":
    run_cli(main)

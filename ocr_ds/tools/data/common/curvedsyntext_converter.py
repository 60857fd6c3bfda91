"""CurvedSynText150k (ABCNet's Bezier annotations) -> ``instances_training.json`` (MMOCR 0.6.3's
``tools/data/common/curvedsyntext_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.common.curvedsyntext_converter data/CurvedSynText150k \\
        [-o OUT_DIR] [-n 4] [--nproc 4]

Reads ``ROOT/train1.json`` (images under ``syntext_word_eng/``) and ``ROOT/train2.json``
(``emcs_imgs/``), COCO files whose annotations carry ``bezier_pts`` (8 control points) and
``rec`` (the text as indices into the 95 printable ASCII characters; 95 unknown, 96 the end);
each annotation gets its ``text`` and a ``segmentation`` of ``2 * N`` points sampled on its two
Bezier curves (clockwise, as MMOCR sorts them), the second file's image and annotation ids
continuing after the first's. Writes ``OUT_DIR/instances_training.json`` (default ROOT).
Differs: an unknown character (95) becomes ``口`` (MMOCR appends that and then fails on its
own table), an index above 96 or a malformed file is a one-line error, and an empty
``train1.json`` starts the second's ids at 0 (MMOCR: a traceback).
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Sequence

import numpy as np

from ocr_ds.datasets.textdet.bezier import bezier_to_polygon, sort_points
from ocr_ds.datasets.textdet.coco_convert import (coco_json, map_images, read_json_file,
                                                  write_outputs)
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.translate.values import positive_int

DICT95 = [chr(c) for c in range(32, 127)]
UNK, EOS = len(DICT95), len(DICT95) + 1


def digit2text(rec: Sequence[int], where: str) -> str:
    res = []
    for d in rec:
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= EOS:
            raise UserError(f"{where}: rec: expected character indices 0..{EOS} (got {d!r})")
        if d == EOS:
            break
        res.append("口" if d == UNK else DICT95[d])
    return "".join(res)


def modify_annotation(ann: dict[str, Any], num_sample: int, start_img_id: int = 0,
                      start_ann_id: int = 0) -> dict[str, Any]:
    ann["text"] = digit2text(ann.pop("rec"), f"annotation {ann['id']}")
    polygon = bezier_to_polygon(ann["bezier_pts"], num_sample=num_sample)
    ann["segmentation"] = np.asarray(sort_points(polygon)).reshape(1, -1).tolist()
    ann["image_id"] += start_img_id
    ann["id"] += start_ann_id
    return ann


def modify_image_info(image_info: dict[str, Any], path_prefix: str,
                      start_img_id: int = 0) -> dict[str, Any]:
    image_info["file_name"] = os.path.join(path_prefix, image_info["file_name"])
    image_info["id"] += start_img_id
    return image_info


def load(path: str) -> dict[str, Any]:
    data = read_json_file(path, "CurvedSynText150k annotation file")
    try:
        for img in data["images"]:
            if not isinstance(img["file_name"], str) or not isinstance(img["id"], int):
                raise TypeError
        for ann in data["annotations"]:
            if not isinstance(ann["id"], int) or not isinstance(ann["image_id"], int):
                raise TypeError
            if np.asarray(ann["bezier_pts"], dtype=float).size != 16 or not isinstance(
                    ann["rec"], list):
                raise TypeError
        for ann in data["annotations"]:
            digit2text(ann["rec"], f"{path}: annotation {ann['id']}")
    except (KeyError, TypeError, ValueError):
        raise UserError(f'{path}: expected COCO "images" (file_name, id) and "annotations" (id, '
                        f'image_id, 16 "bezier_pts", a "rec" list)') from None
    return data


def convert_annotations(data: dict[str, Any], path_prefix: str, num_sample: int, nproc: int,
                        start_img_id: int = 0, start_ann_id: int = 0) -> dict[str, Any]:
    data["annotations"] = map_images(partial(
        modify_annotation, num_sample=num_sample, start_img_id=start_img_id,
        start_ann_id=start_ann_id), data["annotations"], nproc)
    data["images"] = map_images(partial(modify_image_info, path_prefix=path_prefix,
                                        start_img_id=start_img_id), data["images"], nproc)
    data["categories"] = [{"id": 1, "name": "text"}]
    return data


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.common.curvedsyntext_converter",
                  description="Convert CurvedSynText150k to COCO format")
    p.add_argument("root_path", help="CurvedSynText150k root path")
    p.add_argument("-o", "--out-dir", help="Output path (default: root_path)")
    p.add_argument("-n", "--num-sample", type=int, default=4,
                   help="Number of sample points at each Bezier curve (4).")
    p.add_argument("--nproc", default=1, type=int, help="Number of processes")
    args = p.parse_args(argv)
    positive_int(args.num_sample, "--num-sample")
    root = args.root_path
    data2 = load(os.path.join(root, "train2.json"))
    data1 = convert_annotations(load(os.path.join(root, "train1.json")), "syntext_word_eng",
                                args.num_sample, args.nproc)
    start_img_id = max((img["id"] for img in data1["images"]), default=-1) + 1
    start_ann_id = max((ann["id"] for ann in data1["annotations"]), default=-1) + 1
    data2 = convert_annotations(data2, "emcs_imgs", args.num_sample, args.nproc,
                                start_img_id=start_img_id, start_ann_id=start_ann_id)
    data1["images"] += data2["images"]
    data1["annotations"] += data2["annotations"]
    out = os.path.join(args.out_dir or root, "instances_training.json")
    write_outputs({out: coco_json(data1)})
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run_cli(main)

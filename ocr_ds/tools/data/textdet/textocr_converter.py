"""TextOCR annotations -> ``instances_training.json`` and ``instances_val.json`` in ROOT (MMOCR
0.6.3's ``tools/data/textdet/textocr_converter.py``, same arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.textocr_converter data/textocr

Reads ``ROOT/TextOCR_0.1_train.json`` and ``ROOT/TextOCR_0.1_val.json``; a word ``.`` (illegible)
is ``iscrowd=1``. Each image keeps its fields, ``segm_file`` is the annotation file's path.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.json_gt import (coco_text_images, field, floor_box, load_json,
                                             numbers)
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet._common import write_cocos

SPLITS = {"instances_training.json": "TextOCR_0.1_train.json",
          "instances_val.json": "TextOCR_0.1_val.json"}


def collect_textocr_info(root: str, name: str) -> list[dict]:
    path = os.path.join(root, name)
    infos = []
    for _, img_info, anns in coco_text_images(load_json(path, "TextOCR annotation file"), path,
                                              str_ids=False):
        info = dict(img_info, segm_file=path)
        info["anno_info"] = []
        for ann in anns:
            where = f"{path}: annotation {ann.get('id', '?')!r}"
            text = field(ann, "utf8_string", where, str)
            points = numbers(field(ann, "points", where), where, "points")
            info["anno_info"].append(dict(
                iscrowd=int(text == "."), category_id=1, bbox=floor_box(ann["bbox"]),
                area=field(ann, "area", where), segmentation=[[max(0, int(v)) for v in points]]))
        infos.append(info)
    return infos


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.textocr_converter",
                  description="Generate training and validation set of TextOCR")
    p.add_argument("root_path", help="Root dir path of TextOCR (with TextOCR_0.1_{train,val}.json)")
    args = p.parse_args(argv)
    write_cocos({os.path.join(args.root_path, out): collect_textocr_info(args.root_path, name)
                 for out, name in SPLITS.items()})
    return 0


if __name__ == "__main__":
    run_cli(main)

"""COCO-Text v2 annotations -> ``instances_training.json`` and ``instances_val.json`` in ROOT
(MMOCR 0.6.3's ``tools/data/textdet/cocotext_converter.py``, same arguments, byte-identical
output)::

    python -m ocr_ds.tools.data.textdet.cocotext_converter data/coco_textv2

Reads ``ROOT/annotations/cocotext.v2.json``; images whose ``set`` is ``train`` / ``val`` and
that hold text, a word ``not english`` or ``illegible`` as ``iscrowd=1``; a ``mask`` of fewer
than 4 points (or an odd count) becomes the box's corners.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.json_gt import (coco_text_images, field, floor_box, load_json,
                                             numbers)
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet._common import write_cocos

ANNOTATION = os.path.join("annotations", "cocotext.v2.json")
SPLITS = {"instances_training.json": "train", "instances_val.json": "val"}


def is_ignored(ann: dict, where: str) -> bool:
    """Not English or illegible (MMOCR's ``iscrowd``; its recognition crops leave them out)."""
    return (field(ann, "language", where) == "not english"
            or field(ann, "legibility", where) == "illegible")


def collect_cocotext_info(annotation: dict, path: str, split: str) -> list[dict]:
    infos = []
    for _, img_info, anns in coco_text_images(annotation, path, str_ids=True):
        if field(img_info, "set", f"{path}: image {img_info['id']!r}") != split or not anns:
            continue
        info = dict(img_info, segm_file=path)
        info["anno_info"] = []
        for ann in anns:
            where = f"{path}: annotation {ann.get('id', '?')!r}"
            iscrowd = int(is_ignored(ann, where))
            x, y, w, h = bbox = floor_box(ann["bbox"])
            segmentation = [max(0, int(v)) for v in numbers(field(ann, "mask", where), where,
                                                            "mask")]
            if len(segmentation) < 8 or len(segmentation) % 2:
                segmentation = [x, y, x + w, y, x + w, y + h, x, y + h]
            info["anno_info"].append(dict(iscrowd=iscrowd, category_id=1, bbox=bbox,
                                          area=field(ann, "area", where),
                                          segmentation=[segmentation]))
        infos.append(info)
    return infos


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textdet.cocotext_converter",
                  description="Generate training and validation set of COCO Text v2")
    p.add_argument("root_path", help="Root dir path of COCO Text v2 "
                   "(with annotations/cocotext.v2.json)")
    args = p.parse_args(argv)
    path = os.path.join(args.root_path, ANNOTATION)
    annotation = load_json(path, "COCO-Text annotation file")
    write_cocos({os.path.join(args.root_path, out): collect_cocotext_info(annotation, path, split)
                 for out, split in SPLITS.items()})
    return 0


if __name__ == "__main__":
    run_cli(main)

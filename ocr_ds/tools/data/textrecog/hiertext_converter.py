"""HierText word (or line) crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
hiertext_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.hiertext_converter data/hiertext [--nproc 4] \\
        [--preserve-vertical] [--level {word,line}] [--format {jsonl,txt}]

Reads ``ROOT/annotations/{train,val}.jsonl`` (see ``ocr_ds.datasets.textdet.hiertext_gt``) and
``ROOT/imgs/<split>/<image_id>.jpg``; writes the crop of every legible word (or line) box
(corner floored, size rounded up) as ``ROOT/crops/<split>/img_<i>_<paragraph>_<line>[_<word>]
.jpg`` (MMOCR's names: a line's first word, index 0, has no ``_<word>``) and its line in
``ROOT/<split>_label.<format>`` (``<split>/<name> TEXT``, or JSON lines, non-ASCII escaped).
Training crops more than twice as high as wide go to ``ROOT/ignores/train``, unlabelled, unless
``--preserve-vertical``. An empty crop is left out.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images, polygon_bounds
from ocr_ds.datasets.textdet.hiertext_gt import hiertext_images, regions, vertices
from ocr_ds.datasets.textdet.json_gt import field
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textrecog._common import Staging, add_format, report
from ocr_ds.tools.data.textrecog._crops import add_crop_args, crop_boxes
from ocr_ds.tools.data.textrecog.cocotext_converter import split_crops

SPLITS = ("train", "val")


def jobs(root: str, split: str, level: str, stage: str, fmt: str,
         preserve_vertical: bool) -> list:
    path, images = hiertext_images(root, split)
    found = []
    for i, img in enumerate(images):
        crops = []
        for idx, region, at in regions(img, level, f"{path}: annotations[{i}]"):
            if not field(region, "legible", at, bool):
                continue
            _, (min_x, min_y, max_x, max_y) = polygon_bounds(vertices(region, at), at)
            box = [max(0, math.floor(min_x)), max(0, math.floor(min_y)),
                   math.ceil(max_x - min_x), math.ceil(max_y - min_y)]
            name = "_".join(map(str, (i,) + (idx if idx[-1:] != (0,) or level == "line"
                                             else idx[:-1])))
            crops.append(split_crops(split, box, f"img_{name}.jpg",
                                     field(region, "text", at, str), fmt, preserve_vertical))
        found.append((os.path.join(root, "imgs", split, img["image_id"] + ".jpg"), stage, crops))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.hiertext_converter",
                  description="Generate training and validation set of HierText")
    p.add_argument("root_path", help="Root dir path of HierText")
    add_crop_args(p)
    p.add_argument("--level", default="word", choices=["word", "line"],
                   help="Crop word or line level instance (word)")
    add_format(p)
    args = p.parse_args(argv)
    root = args.root_path
    with Staging(root) as stage:
        labels = {}
        for split in SPLITS:
            split_jobs = jobs(root, split, args.level, stage.tmp, args.format,
                              args.preserve_vertical)
            labels[os.path.join(root, f"{split}_label.{args.format}")] = [
                line for lines in map_images(crop_boxes, split_jobs, args.nproc)
                for line in lines]
        report(stage.commit(labels, [f"{d}/{s}" for s in SPLITS for d in ("crops", "ignores")]))
    return 0


if __name__ == "__main__":
    run_cli(main)

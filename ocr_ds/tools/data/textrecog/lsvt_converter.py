"""LSVT word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/lsvt_converter.py``,
same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.lsvt_converter data/lsvt [--val-ratio 0.2] \\
        [--nproc 4] [--preserve-vertical] [--format {jsonl,txt}]

Reads ``ROOT/annotations/train_full_labels.json`` and ``ROOT/imgs/<name>.jpg`` (names whose
image is not there are skipped); writes the box crop of every word (illegible ones too, as
MMOCR) as ``ROOT/crops/<split>/img_<i>_<k>.jpg`` and its line in ``ROOT/<split>_label.<format>``
(``<split>/img_<i>_<k>.jpg WORD``, or JSON lines). ``i``: the name's place in its split
(validation counts on from the number of training images found). Training crops more than
twice as high as wide go to ``ROOT/ignores/train``, unlabelled, unless ``--preserve-vertical``.
An empty crop is left out.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images
from ocr_ds.datasets.textdet.json_gt import (art_lsvt_items, check_ratio, field, flat_box,
                                             load_json, point_list, ratio_split)
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import Staging, add_format, report
from ocr_ds.tools.data.textrecog._crops import add_crop_args, crop_boxes
from ocr_ds.tools.data.textrecog.cocotext_converter import split_crops


def jobs(root: str, path: str, items: list, split: str, start: int, stage: str, fmt: str,
         preserve_vertical: bool) -> list:
    """One crop job per image found (MMOCR skips the names whose image is missing)."""
    found = []
    for img_idx, (prefix, anns) in enumerate(items):
        img_file = os.path.join(root, "imgs", prefix + ".jpg")
        if not os.path.exists(img_file):
            continue
        crops = []
        for ann_idx, ann in enumerate(anns):
            where = f"{path}: {prefix}[{ann_idx}]"
            segmentation = point_list(ann, where)
            if not all(isinstance(v, int) for v in segmentation):
                raise UserError(f"{where}: 'points' must be integers to crop by "
                                f"(got {ann['points']!r})")
            box, _ = flat_box(segmentation)
            crops.append(split_crops(split, box, f"img_{start + img_idx}_{ann_idx}.jpg",
                                     field(ann, "transcription", where, str), fmt,
                                     preserve_vertical))
        found.append((img_file, stage, crops))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.lsvt_converter",
                  description="Generate training and validation set of LSVT")
    p.add_argument("root_path", help="Root dir path of LSVT")
    p.add_argument("--val-ratio", default=0.0, type=float, help="Split ratio for val set (0.0)")
    add_crop_args(p)
    add_format(p)
    args = p.parse_args(argv)
    ratio = check_ratio(args.val_ratio)
    root = args.root_path
    path = os.path.join(root, "annotations", "train_full_labels.json")
    items = art_lsvt_items(load_json(path, "LSVT label file"), path)
    splits = dict(zip(("train", "val"), ratio_split(items, ratio)))
    if ratio <= 0:
        del splits["val"]
    with Staging(root) as stage:
        labels, start = {}, 0
        for split, split_items in splits.items():
            split_jobs = jobs(root, path, split_items, split, start, stage.tmp, args.format,
                              args.preserve_vertical)
            labels[os.path.join(root, f"{split}_label.{args.format}")] = [
                line for lines in map_images(crop_boxes, split_jobs, args.nproc)
                for line in lines]
            start = len(split_jobs)
        report(stage.commit(labels, [f"{d}/{s}" for s in splits for d in ("crops", "ignores")]))
    return 0


if __name__ == "__main__":
    run_cli(main)

"""SROIE word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/sroie_converter.py``,
same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.sroie_converter data/sroie [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.sroie_converter``; every quadrangle with a
transcript becomes the crop of its bounding box (no padding), ``ROOT/crops/<split>/<image
stem>_<k>.png``, with its line in ``ROOT/train_label.<format>`` / ``ROOT/test_label.<format>``.
Differs: the transcript is everything after the 8th comma (MMOCR keeps only what follows the
last comma: ``TOTAL 1,000`` -> ``000``).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import map_images, require_dirs
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet import sroie_converter as det
from ocr_ds.tools.data.textdet.funsd_converter import image_entry
from ocr_ds.tools.data.textrecog._common import (Staging, add_format, crop_image_words,
                                                 lines_text)

LABELS = {"training": "train_label", "test": "test_label"}


def convert(root: str, fmt: str, nproc: int) -> list[str]:
    require_dirs(root, LABELS)
    texts = {}
    with Staging(root) as stage:
        for split, label in LABELS.items():
            print(f"Processing {split} set...")
            jobs = []
            for img_file, gt_file in det.collect_files(
                    os.path.join(root, "imgs", split), os.path.join(root, "annotations", split),
                    split):
                image_entry(img_file, gt_file)
                words = [(quad, word) for quad, word in det.read_quads(gt_file) if word]
                jobs.append((img_file, os.path.basename(img_file).split(".")[0], words,
                             stage.path(os.path.join("crops", split)), split, fmt, True, (0, 0),
                             True))
            lines = [line for per_image in map_images(crop_image_words, jobs, nproc)
                     for line in per_image]
            texts[f"{label}.{fmt}"] = lines_text(lines)
        return stage.commit(texts, dirs=tuple(f"crops/{s}" for s in LABELS))


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.sroie_converter",
                  description="Generate training and test set of SROIE")
    p.add_argument("root_path", help="Root dir path of SROIE")
    p.add_argument("--nproc", default=1, type=int, help="Number of process")
    add_format(p)
    args = p.parse_args(argv)
    for path in convert(args.root_path, args.format, args.nproc):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)

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

from ocr_ds.datasets.textdet.coco_convert import require_dirs
from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet import sroie_converter as det
from ocr_ds.tools.data.textdet.funsd_converter import image_entry
from ocr_ds.tools.data.textrecog._common import add_format, convert_crops

LABELS = {"training": "train_label", "test": "test_label"}


def convert(root: str, fmt: str, nproc: int) -> list[str]:
    require_dirs(root, LABELS)

    def jobs_of(split: str, out_dir: str) -> list[tuple]:
        jobs = []
        for img_file, gt_file in det.collect_files(os.path.join(root, "imgs", split),
                                                   os.path.join(root, "annotations", split),
                                                   split):
            image_entry(img_file, gt_file)
            words = [(quad, word) for quad, word in det.read_quads(gt_file) if word]
            jobs.append((img_file, os.path.basename(img_file).split(".")[0], words, out_dir,
                         split, fmt, True, (0, 0), True))
        return jobs

    return convert_crops(root, LABELS, "crops", fmt, nproc, jobs_of)


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

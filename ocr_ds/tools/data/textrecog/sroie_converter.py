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
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import sroie_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)

LABELS = {"training": "train_label", "test": "test_label"}


def convert(root: str, fmt: str, nproc: int) -> list[str]:
    require_dirs(root, LABELS)

    spec = CropSpec(fmt, pads=(0, 0))

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        files = det.collect_files(os.path.join(root, "imgs", split),
                                  os.path.join(root, "annotations", split), split)
        return image_jobs(files, lambda gt: [(quad, word) for quad, word in det.read_quads(gt)
                                             if word], stage, split, spec, ignore_dir=None)

    return convert_crops(root, LABELS, fmt, nproc, jobs_of,
                         tuple(f"crops/{split}" for split in LABELS))


def main(argv: Sequence[str] | None = None) -> int:
    args = recog_parser("sroie_converter", "SROIE").parse_args(argv)
    return report(convert(args.root_path, args.format, args.nproc))


if __name__ == "__main__":
    run_cli(main)

"""FUNSD word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/funsd_converter.py``,
same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.funsd_converter data/funsd [--preserve_vertical] \\
        [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.funsd_converter``; every word with a text becomes
the crop of its box padded as MMOCR's ``crop_img`` pads it, ``ROOT/dst_imgs/<split>/<image
stem>_<k>.png`` (crops over twice as high as wide left out unless ``--preserve_vertical``),
with its line in ``ROOT/train_label.<format>`` / ``ROOT/test_label.<format>`` (jsonl: UTF-8
text, not ``\\u`` escapes). Nothing is moved into place until both splits converted.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import funsd_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)

LABELS = {"training": "train_label", "test": "test_label"}


def convert(root: str, preserve_vertical: bool, fmt: str, nproc: int) -> list[str]:
    spec = CropSpec(fmt, ensure_ascii=False, vertical=preserve_vertical)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        files = det.collect_files(os.path.join(root, "imgs"),
                                  os.path.join(root, "annotations", split))
        return image_jobs(files, lambda gt: [
            ([x, y, x + w, y, x + w, y + h, x, y + h], text)
            for (x, y, w, h), text in det.read_words(gt) if text], stage, split, spec,
            crop_dir="dst_imgs", ignore_dir=None)

    return convert_crops(root, LABELS, fmt, nproc, jobs_of,
                         tuple(f"dst_imgs/{split}" for split in LABELS))


def main(argv: Sequence[str] | None = None) -> int:
    args = recog_parser("funsd_converter", "FUNSD", vertical="--preserve_vertical").parse_args(argv)
    return report(convert(args.root_path, args.preserve_vertical, args.format, args.nproc))


if __name__ == "__main__":
    run_cli(main)

"""IMGUR5K word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
imgur_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.imgur_converter data/imgur [--format txt]

Reads the tree of ``ocr_ds.tools.data.textdet.imgur_converter``; every word becomes the crop of
its oriented box's bounds (no padding), ``ROOT/crops/<split>/<image id>_<k>.png``, labelled in
``ROOT/{train,val,test}_label.<format>``. Differs: as the detection converter, the box string
is read whole.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.errors import CliParser, run_cli
from ocr_ds.tools.data.textdet import imgur_converter as det
from ocr_ds.tools.data.textrecog._common import CropSpec, Staging, add_format, convert_crops, report


def convert(root: str, fmt: str) -> list[str]:
    spec = CropSpec(fmt, pads=(0, 0), keep_empty=True)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        return [(img_path, os.path.basename(img_path).split(".")[0], words,
                 stage.path(f"crops/{split}"), None, split, spec)
                for img_path, _, words in det.read_annotations(root, split)]

    return convert_crops(root, {split: f"{split}_label" for split in det.SPLITS}, fmt, 1,
                         jobs_of, tuple(f"crops/{split}" for split in det.SPLITS))


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.imgur_converter",
                  description="Generate training, validation and test set of IMGUR")
    p.add_argument("root_path", help="Root dir path of IMGUR")
    add_format(p)
    args = p.parse_args(argv)
    return report(convert(args.root_path, args.format))


if __name__ == "__main__":
    run_cli(main)

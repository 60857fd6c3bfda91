"""KAIST word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/kaist_converter.py``,
same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.kaist_converter data/kaist [--preserve-vertical] \\
        [--val-ratio 0.2] [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.kaist_converter``; every word with characters
becomes the crop of its box (no padding), ``ROOT/crops/<split>/<image stem>_<k>.png`` (``k``
counting the empty crops too); crops over twice as high as wide go to ``ROOT/ignores/<split>``
unless ``--preserve-vertical``. Labels: ``ROOT/train_label.<format>`` (and ``val_label``).
Differs: the ignored tall crops get no label line (MMOCR lists them, where no such crop is).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import kaist_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops, image_jobs,
                                                 recog_parser, report)
from ocr_ds.tools.data.textrecog.bid_converter import rect_words

LABELS = {"training": "train_label", "val": "val_label"}


def convert(root: str, preserve_vertical: bool, val_ratio: float, fmt: str,
            nproc: int) -> list[str]:
    det.split_every([], val_ratio)
    parts = {split: files for split, files in det.split_every(
        det.collect_files(root), val_ratio).items() if files or split == "training"}
    spec = CropSpec(fmt, ensure_ascii=False, pads=(0, 0), number_all=True,
                    vertical=preserve_vertical)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        return image_jobs(parts[split], lambda gt: [(box, word) for box, word in rect_words(
            det.read_words(gt)) if word], stage, split, spec)

    return convert_crops(root, {split: LABELS[split] for split in parts}, fmt, nproc, jobs_of,
                         tuple(f"{d}/{split}" for split in parts for d in ("crops", "ignores")))


def main(argv: Sequence[str] | None = None) -> int:
    p = recog_parser("kaist_converter", "KAIST", "Generate training and val set of KAIST",
                     vertical="--preserve-vertical")
    det.add_val_ratio(p)
    args = p.parse_args(argv)
    return report(convert(args.root_path, args.preserve_vertical, args.val_ratio, args.format,
                          args.nproc))


if __name__ == "__main__":
    run_cli(main)

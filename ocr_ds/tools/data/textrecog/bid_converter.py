"""BID word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/bid_converter.py``, same
arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.bid_converter data/bid [--preserve-vertical] \\
        [--val-ratio 0.2] [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.bid_converter``; every box becomes its crop (no
padding), ``ROOT/crops/<split>/<image stem>_<k>.png`` (``k`` counting the empty crops too), in
training crops over twice as high as wide go to ``ROOT/ignores/training`` unless
``--preserve-vertical``; labels ``ROOT/training_label.<format>`` (and ``val_label``). Differs:
the ignored tall crops get no label line (MMOCR lists them under ``training/``, where no such
crop is); and as in the detection converter, a ratio giving no val image keeps them all in
training.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import bid_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)


def convert(root: str, preserve_vertical: bool, val_ratio: float, fmt: str,
            nproc: int) -> list[str]:
    det.split_val([], val_ratio)
    parts = det.split_val(det.collect_files(root), val_ratio)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        spec = CropSpec(fmt, ensure_ascii=False, pads=(0, 0), number_all=True, keep_empty=True,
                        vertical=preserve_vertical or split != "training")
        return image_jobs(parts[split], lambda gt: [
            ([x, y, x + w, y, x + w, y + h, x, y + h], word)
            for (x, y, w, h), word in det.read_boxes(gt)], stage, split, spec)

    return convert_crops(root, {split: f"{split}_label" for split in parts}, fmt, nproc,
                         jobs_of, tuple(f"crops/{split}" for split in parts))


def main(argv: Sequence[str] | None = None) -> int:
    p = recog_parser("bid_converter", "BID", "Generate training and val set of BID",
                     vertical="--preserve-vertical")
    det.add_val_ratio(p)
    args = p.parse_args(argv)
    return report(convert(args.root_path, args.preserve_vertical, args.val_ratio, args.format,
                          args.nproc))


if __name__ == "__main__":
    run_cli(main)

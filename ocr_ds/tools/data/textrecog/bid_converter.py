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

from typing import Any, Callable, Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import bid_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)


def convert(root: str, files: list[tuple[str, str]], preserve_vertical: bool, val_ratio: float,
            fmt: str, nproc: int, words_of: Callable[[str], list[tuple]],
            **spec: Any) -> list[str]:
    """``crops/<split>`` and ``<split>_label.<fmt>`` of ``files`` split by ``val_ratio``."""
    parts = det.split_val(files, val_ratio)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        crop_spec = CropSpec(fmt, ensure_ascii=False, pads=(0, 0), number_all=True,
                             vertical=preserve_vertical or split != "training", **spec)
        return image_jobs(parts[split], words_of, stage, split, crop_spec)

    return convert_crops(root, {split: f"{split}_label" for split in parts}, fmt, nproc,
                         jobs_of, tuple(f"crops/{split}" for split in parts))


def rect_words(boxes: list[tuple[list[int], str]]) -> list[tuple[list[int], str]]:
    """``[x, y, w, h]`` boxes as their 4 corners."""
    return [([x, y, x + w, y, x + w, y + h, x, y + h], word) for (x, y, w, h), word in boxes]


def main_val(argv: Sequence[str] | None, name: str, dataset: str,
             collect: Callable[[str], list[tuple[str, str]]],
             words_of: Callable[[str], list[tuple]], **spec: Any) -> int:
    """``ROOT [--preserve-vertical] [--val-ratio R] [--format F] [--nproc N]``."""
    p = recog_parser(name, dataset, f"Generate training and val set of {dataset}",
                     vertical="--preserve-vertical")
    det.add_val_ratio(p)
    args = p.parse_args(argv)
    det.split_val([], args.val_ratio)
    return report(convert(args.root_path, collect(args.root_path), args.preserve_vertical,
                          args.val_ratio, args.format, args.nproc, words_of, **spec))


def main(argv: Sequence[str] | None = None) -> int:
    return main_val(argv, "bid_converter", "BID", det.collect_files,
                    lambda gt: rect_words(det.read_boxes(gt)), keep_empty=True)


if __name__ == "__main__":
    run_cli(main)

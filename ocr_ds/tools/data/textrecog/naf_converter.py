"""NAF word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/naf_converter.py``, same
arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.naf_converter data/naf [--preserve-vertical] \\
        [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.naf_converter``; every ``fieldBBs`` box (4
points) with a transcription becomes the crop of its bounding box (no padding),
``ROOT/crops/<split>/<image stem>_<k>.png`` (``k`` counting the skipped boxes too), the word
without ``\\u202a`` at its ends nor the strike-through marks ``«`` ``»``; words with ``§`` or
``¿`` (illegible) are left out; in training, crops over twice as high as wide go to
``ROOT/ignores/training`` unless ``--preserve-vertical``. Labels: ``ROOT/{train,val,test}_label.
<format>``. Differs: those ignored crops get no label line (MMOCR lists them under
``training/``, where no such crop is).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet import naf_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)

LABELS = {"training": "train_label", "val": "val_label", "test": "test_label"}


def read_words(gt_file: str) -> list[tuple[list, str]]:
    """``[(8 numbers, cleaned word), ...]`` of the transcribed, non-empty ``fieldBBs``."""
    ann = det.read_boxes(gt_file)
    transcriptions = ann.get("transcriptions")
    if transcriptions is None:
        return []
    out = []
    for box in ann["fieldBBs"]:
        word = transcriptions.get(box["id"]) if isinstance(transcriptions, dict) else None
        if not word:
            continue
        pts = det._points(box)
        if len(pts) != 4 or not isinstance(word, str):
            raise UserError(f"{gt_file}: field {box['id']}: expected 4 poly_points and a "
                            f"string transcription")
        word = word.strip("\u202a").replace("»", "").replace("«", "")
        out.append(([v for p in pts for v in p], word))
    return out


def convert(root: str, preserve_vertical: bool, fmt: str, nproc: int) -> list[str]:
    lists = det.split_lists(root)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        spec = CropSpec(fmt, ensure_ascii=False, pads=(0, 0), number_all=True, skip_chars="§¿",
                        vertical=preserve_vertical or split != "training")
        return image_jobs(det.collect_files(root, lists[split]), read_words, stage, split, spec)

    return convert_crops(root, LABELS, fmt, nproc, jobs_of,
                         tuple(f"{d}/{split}" for split in LABELS for d in ("crops", "ignores")))


def main(argv: Sequence[str] | None = None) -> int:
    args = recog_parser("naf_converter", "NAF", "Generate training, val, and test set of NAF",
                        vertical="--preserve-vertical").parse_args(argv)
    return report(convert(args.root_path, args.preserve_vertical, args.format, args.nproc))


if __name__ == "__main__":
    run_cli(main)

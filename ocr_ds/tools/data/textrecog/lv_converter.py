"""Lecture Video DB word labels -> ``{train,val,test}_label.jsonl`` (MMOCR 0.6.3's
``tools/data/textrecog/lv_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textrecog.lv_converter data/lv [--format txt]

LV ships its crops (``Crops/<split>/...``) with ``ROOT/{train,val,test}_label.txt`` lines
``Crops/val/11/1/1.png WORD`` (the word may hold spaces); ``--format jsonl`` (the default)
writes them as ``{"filename": ..., "text": ...}`` lines, ``--format txt`` leaves the txt files as
they are (nothing to do). Differs: blank lines are skipped and a word holding ``png `` is read
whole (MMOCR: a traceback).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import write_outputs
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textrecog._common import (label_file_lines, label_line, lines_text,
                                                 recog_parser)

SPLITS = ("train", "val", "test")


def read_labels(path: str) -> list[tuple[str, str]]:
    """``[(NAME.png, WORD), ...]`` of ``NAME.png WORD`` lines."""
    out = []
    for n, line in label_file_lines(path):
        name, sep, word = line.partition("png ")
        if not sep:
            raise UserError(f"{path}:{n}: expected 'NAME.png WORD' (got {line!r})")
        out.append((name + "png", word))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = recog_parser("lv_converter", "Lecture Video DB",
                     "Generate training and test set of Lecture Video DB", nproc=False)
    args = p.parse_args(argv)
    if args.format == "txt":  # LV ships its labels as txt
        print("LV's label files are txt already: nothing to convert")
        return 0
    outputs = {}
    for split in SPLITS:
        labels = read_labels(os.path.join(args.root_path, f"{split}_label.txt"))
        outputs[os.path.join(args.root_path, f"{split}_label.jsonl")] = lines_text(
            [label_line(name, word, "jsonl") for name, word in labels])
        print(f"{split} split converted.")
    write_outputs(outputs)
    return 0


if __name__ == "__main__":
    run_cli(main)

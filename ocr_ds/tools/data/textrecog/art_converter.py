"""ArT (task 2, pre-cropped words) label files for recognition (MMOCR 0.6.3's
``tools/data/textrecog/art_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.art_converter data/art [--val-ratio 0.2] \\
        [--format {jsonl,txt}]

Reads ``ROOT/annotations/train_task2_labels.json`` (``{"gt_0_0": [{"transcription": ...}],
...}``) and writes ``ROOT/train_label.<format>`` (and ``val_label.<format>`` with
``--val-ratio``): ``crops/<name>.jpg WORD``, or JSON lines (non-ASCII kept as is). ``--nproc``
is accepted and unused, as in MMOCR.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import write_outputs
from ocr_ds.datasets.textdet.json_gt import (art_lsvt_items, check_ratio, field, load_json,
                                             ratio_split)
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import add_format, label_line


def labels(path: str, items: list, fmt: str) -> str:
    lines = []
    for prefix, anns in items:
        if not anns:
            raise UserError(f"{path}: {prefix!r} has no transcription")
        text = field(anns[0], "transcription", f"{path}: {prefix}[0]", str)
        lines.append(label_line(f"crops/{prefix}.jpg", text, fmt, ensure_ascii=False) + "\n")
    return "".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = CliParser(prog="python -m ocr_ds.tools.data.textrecog.art_converter",
                  description="Generate training and validation set of ArT")
    p.add_argument("root_path", help="Root dir path of ArT")
    p.add_argument("--val-ratio", default=0.0, type=float, help="Split ratio for val set (0.0)")
    p.add_argument("--nproc", default=1, type=int, help="Number of processes (unused)")
    add_format(p)
    args = p.parse_args(argv)
    ratio = check_ratio(args.val_ratio)
    path = os.path.join(args.root_path, "annotations", "train_task2_labels.json")
    train, val = ratio_split(art_lsvt_items(load_json(path, "ArT task 2 label file"), path), ratio)
    print(f"training #{len(train)}, val #{len(val)}")
    outputs = {os.path.join(args.root_path, f"train_label.{args.format}"):
               labels(path, train, args.format)}
    if ratio > 0:
        outputs[os.path.join(args.root_path, f"val_label.{args.format}")] = labels(
            path, val, args.format)
    write_outputs(outputs)
    for out in outputs:
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run_cli(main)

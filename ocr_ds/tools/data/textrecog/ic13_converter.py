"""ICDAR 2013 word images' labels -> ``{train,test}_label.{jsonl,txt}`` (MMOCR 0.6.3's
``tools/data/textrecog/ic13_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textrecog.ic13_converter data/icdar2013 [--format txt]

Reads ``ROOT/annotations/Challenge2_{Train,Test}_Task3_GT.txt`` (``word_1.png, "flying"``
lines; the word may hold commas and quotes) and writes ``ROOT/train_label.<format>`` /
``ROOT/test_label.<format>`` naming the images ``train/word_1.png`` / ``test/...`` (the word
images themselves are used where they are). Blank lines are skipped, a last line without a
newline loses its closing quote too, a word with ``, "`` in it is read whole (MMOCR: a crash, a
quote kept, a crash).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import write_outputs
from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.tools.data.textrecog._common import (add_format, label_file_lines, label_line,
                                                 lines_text)

SPLITS = ("Train", "Test")


def read_labels(path: str) -> list[tuple[str, str]]:
    """``[(image name, word), ...]`` of a ``NAME, "WORD"`` file."""
    out = []
    for n, line in label_file_lines(path):
        name, sep, word = line.partition(', "')
        if not sep or not word.endswith('"'):
            raise UserError(f'{path}:{n}: expected NAME, "WORD" (got {line!r})')
        out.append((name, word[:-1]))
    return out


def convert(root: str, challenge: str, fmt: str) -> list[str]:
    outputs = {}
    for split in SPLITS:
        labels = read_labels(os.path.join(root, "annotations",
                                          f"Challenge{challenge}_{split}_Task3_GT.txt"))
        lines = [label_line(f"{split.lower()}/{name}", word, fmt) for name, word in labels]
        outputs[os.path.join(root, f"{split.lower()}_label.{fmt}")] = lines_text(lines)
        print(f"{split} split converted.")
    write_outputs(outputs)
    return list(outputs)


def main(argv: Sequence[str] | None = None, dataset: str = "IC13", challenge: str = "2") -> int:
    p = CliParser(prog=f"python -m ocr_ds.tools.data.textrecog.{dataset.lower()}_converter",
                  description=f"Generate training and test set of {dataset}")
    p.add_argument("root_path", help=f"Root dir path of {dataset}")
    add_format(p)
    args = p.parse_args(argv)
    for path in convert(args.root_path, challenge, args.format):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    run_cli(main)

"""Write a character dictionary (``dict_file`` of a label convertor) from label files.

::

    python -m ocr_ds.tools.build_dict data/chinese/labels/train.txt \\
        data/chineseocr/labels/test.txt -o data/chineseocr/labels/my_dict.txt

One character per line, in code-point order (``--order first``: in order of first appearance),
as MMOCR's convertors read a ``dict_file``. MMOCR's own Chinese dictionary
(``dict_printed_chinese_english_digits.txt``, from MMOCR's model zoo) is what its Chinese SAR
checkpoint was trained with: to fine-tune that checkpoint use that file, since the class indices
follow its order; a dictionary built here is for training from scratch on your own labels.
Label files are ``FILENAME TEXT`` lines (``.txt``) or JSON lines (``.jsonl``), as
``to_lmdb`` reads them.
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.outputs import check_file_creatable
from ocr_ds.tools.to_lmdb import read_labels


def collect_chars(label_files: Sequence[str], label_format: str = "auto",
                  separator: str = " ", order: str = "sorted") -> list[str]:
    """The distinct characters of every text, sorted by code point or by first appearance."""
    if order not in ("sorted", "first"):
        raise UserError(f"--order: expected sorted or first (got {order!r})")
    seen: dict[str, None] = {}
    for path in label_files:
        for _, _, text in read_labels(path, label_format, separator):
            for char in text:
                if char not in "\r\n":
                    seen.setdefault(char, None)
    chars = list(seen)
    return sorted(chars) if order == "sorted" else chars


def main(argv: Sequence[str] | None = None) -> int:
    parser = CliParser(
        prog="python -m ocr_ds.tools.build_dict",
        description="Write the characters of label files as a dict_file (one per line).")
    parser.add_argument("labels", nargs="+", help="label files (.txt or .jsonl)")
    parser.add_argument("-o", "--out", required=True, help="dictionary file to write")
    parser.add_argument("--order", default="sorted", choices=("sorted", "first"),
                        help="code-point order (sorted) or order of first appearance (first)")
    parser.add_argument("--label-format", default="auto", help="auto, txt or jsonl (auto)")
    parser.add_argument("--separator", default=" ", help="txt field separator (a space)")
    args = parser.parse_args(argv)
    check_file_creatable(args.out, "--out")  # before reading every label file
    chars = collect_chars(args.labels, args.label_format, args.separator, args.order)
    if not chars:
        raise UserError(f"{', '.join(args.labels)}: no characters in the texts")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.writelines(f"{c}\n" for c in chars)
    print(f"wrote {len(chars)} characters to {args.out}")
    return 0


if __name__ == "__main__":
    run_cli(main)

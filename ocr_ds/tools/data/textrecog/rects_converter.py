"""ReCTS word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/rects_converter.py``, same
arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.rects_converter data/rects [--val-ratio 0.2] \\
        [--nproc 4] [--preserve-vertical] [--format {jsonl,txt}]

Reads ``ROOT/annotations/<name>.json`` with ``ROOT/imgs/<name>.jpg`` (``os.listdir`` order);
leaves out lines with ``ignore`` 1.
The crops and labels: ``ocr_ds.tools.data.textrecog._listed``.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textrecog._listed import convert_listed_crops


def main(argv: Sequence[str] | None = None) -> int:
    return convert_listed_crops(argv, "rects_converter", "ReCTS")


if __name__ == "__main__":
    run_cli(main)

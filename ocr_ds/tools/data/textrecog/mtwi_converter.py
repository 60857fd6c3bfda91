"""MTWI word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/mtwi_converter.py``, same
arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.mtwi_converter data/mtwi [--val-ratio 0.2] \\
        [--nproc 4] [--preserve-vertical] [--format {jsonl,txt}]

Reads ``ROOT/annotations/<name>.txt`` with ``ROOT/imgs/<name>.jpg`` (``os.listdir`` order);
leaves out ``###`` regions. Images OpenCV cannot decode are re-saved as RGB JPEGs in place, as
MMOCR does; empty ones are skipped.
The crops and labels: ``ocr_ds.tools.data.textrecog._listed``.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textrecog._listed import convert_listed_crops


def main(argv: Sequence[str] | None = None) -> int:
    return convert_listed_crops(argv, "mtwi_converter", "MTWI")


if __name__ == "__main__":
    run_cli(main)

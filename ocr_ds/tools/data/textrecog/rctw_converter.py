"""RCTW word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/rctw_converter.py``, same
arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.rctw_converter data/rctw [--val-ratio 0.2] \\
        [--nproc 4] [--preserve-vertical] [--format {jsonl,txt}]

Reads ``ROOT/annotations/<name>.txt`` with ``ROOT/imgs/<name>.jpg`` (``os.listdir`` order); leaves
out ``###`` and difficult regions. Labels are ``training/<name>`` / ``val/<name>``, the crops'
places under ``ROOT/crops`` (MMOCR writes ``crops/<name>``, a file that is not there).
The crops and labels: ``ocr_ds.tools.data.textrecog._listed``.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textrecog._listed import convert_listed_crops


def main(argv: Sequence[str] | None = None) -> int:
    return convert_listed_crops(argv, "rctw_converter", "RCTW")


if __name__ == "__main__":
    run_cli(main)

"""ICDAR 2011 word images' labels -> ``{train,test}_label.{jsonl,txt}`` (MMOCR 0.6.3's
``tools/data/textrecog/ic11_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textrecog.ic11_converter data/icdar2011 [--format txt]

As ``ic13_converter``, from ``ROOT/annotations/Challenge1_{Train,Test}_Task3_GT.txt``.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textrecog import ic13_converter


def main(argv: Sequence[str] | None = None) -> int:
    return ic13_converter.main(argv, dataset="IC11", challenge="1")


if __name__ == "__main__":
    run_cli(main)

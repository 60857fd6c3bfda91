"""RCTW annotations -> ``instances_training.json`` (and ``instances_val.json`` with
``--val-ratio``) in ROOT (MMOCR 0.6.3's ``tools/data/textdet/rctw_converter.py``, same
arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.rctw_converter data/rctw [--val-ratio 0.2] [--nproc 4]

Reads every ``ROOT/annotations/<name>.txt`` (``x1,y1,...,x4,y4,difficult,"text"``) with
``ROOT/imgs/<name>.jpg``, in ``os.listdir`` order (MMOCR's; ``--val-ratio R``: every
``floor(1 / R)``-th pair from the first is validation); ``###`` or ``difficult`` other than
``0`` is ``iscrowd=1``.
See ``ocr_ds.datasets.textdet.listed_gt`` for the format and MMOCR's rules.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import convert_listed


def main(argv: Sequence[str] | None = None) -> int:
    return convert_listed(argv, "rctw_converter", "RCTW")


if __name__ == "__main__":
    run_cli(main)

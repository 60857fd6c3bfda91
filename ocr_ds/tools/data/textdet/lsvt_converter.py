"""LSVT annotations -> ``instances_training.json`` (and ``instances_val.json`` with
``--val-ratio``) in ROOT (MMOCR 0.6.3's ``tools/data/textdet/lsvt_converter.py``, same
arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.lsvt_converter data/lsvt [--val-ratio 0.2]

Reads ``ROOT/annotations/train_full_labels.json`` with images ``ROOT/imgs/<name>.jpg`` (names
whose image is not there are skipped); ``illegibility`` is ``iscrowd=1``. ``--val-ratio R``:
every ``floor(1 / R)``-th image, from the first, is validation.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import convert_art_lsvt


def main(argv: Sequence[str] | None = None) -> int:
    return convert_art_lsvt(argv, "lsvt_converter", "LSVT", "train_full_labels.json", art=False)


if __name__ == "__main__":
    run_cli(main)

"""ILST word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/ilst_converter.py``,
same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.ilst_converter data/IIIT-ILST [--preserve-vertical] \\
        [--val-ratio 0.2] [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.ilst_converter`` (unreadable images skipped
before the split); every box becomes its crop (no padding), ``ROOT/crops/<split>/<image
stem>_<k>.png`` (``k`` counting the empty crops too); in training, crops over twice as high as
wide go to ``ROOT/ignores/training`` unless ``--preserve-vertical``; labels
``ROOT/training_label.<format>`` (and ``val_label``). Differs: the ignored tall crops get no
label line (MMOCR lists them under ``training/``, where no such crop is); an empty ``<name/>``
is not cropped (MMOCR: a crop labelled ``None``).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import ilst_converter as det
from ocr_ds.tools.data.textrecog.bid_converter import main_val, rect_words


def main(argv: Sequence[str] | None = None) -> int:
    return main_val(argv, "ilst_converter", "ILST",
                    lambda root: [f for f in det.collect_files(root) if det.readable(f)],
                    lambda gt: rect_words(det.read_boxes(gt)))


if __name__ == "__main__":
    run_cli(main)

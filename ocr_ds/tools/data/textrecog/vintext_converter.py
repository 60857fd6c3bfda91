"""VinText word crops for recognition (MMOCR 0.6.3's ``tools/data/textrecog/
vintext_converter.py``, same arguments, byte-identical files)::

    python -m ocr_ds.tools.data.textrecog.vintext_converter data/vintext [--preserve-vertical] \\
        [--format txt] [--nproc 4]

Reads the tree of ``ocr_ds.tools.data.textdet.vintext_converter``; every quadrangle but the
``###`` ones becomes the crop of its bounding box (no padding), ``ROOT/crops/<split>/<image
stem>_<k>.png`` (``k`` counting the empty crops too); in training, crops over twice as high as
wide go to ``ROOT/ignores/training`` unless ``--preserve-vertical``. Labels:
``ROOT/{train,test,unseen_test}_label.<format>`` (jsonl with UTF-8 text). Differs: the ignored
tall crops get no label line (MMOCR lists them under ``training/``, where no such crop is).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import require_dirs
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet import vintext_converter as det
from ocr_ds.tools.data.textrecog._common import (CropSpec, Staging, convert_crops,
                                                 image_jobs, recog_parser, report)

LABELS = {"training": "train_label", "test": "test_label", "unseen_test": "unseen_test_label"}


def convert(root: str, preserve_vertical: bool, fmt: str, nproc: int) -> list[str]:
    require_dirs(root, LABELS)

    def jobs_of(split: str, stage: Staging) -> list[tuple]:
        spec = CropSpec(fmt, ensure_ascii=False, pads=(0, 0), number_all=True, keep_empty=True,
                        vertical=preserve_vertical or split != "training")
        files = det.collect_files(os.path.join(root, "imgs", split),
                                  os.path.join(root, "annotations"))
        return image_jobs(files, lambda gt: [(quad, word) for quad, word in det.read_quads(gt)
                                             if word != det.DONT_CARE], stage, split, spec)

    return convert_crops(root, LABELS, fmt, nproc, jobs_of,
                         tuple(f"crops/{split}" for split in LABELS))


def main(argv: Sequence[str] | None = None) -> int:
    args = recog_parser("vintext_converter", "VinText",
                        vertical="--preserve-vertical").parse_args(argv)
    return report(convert(args.root_path, args.preserve_vertical, args.format, args.nproc))


if __name__ == "__main__":
    run_cli(main)

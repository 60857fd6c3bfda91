"""Total-Text detection annotations -> ``instances_training.json`` and ``instances_test.json``
in ROOT (MMOCR 0.6.3's ``tools/data/textdet/totaltext_converter.py``, same arguments,
byte-identical output)::

    python -m ocr_ds.tools.data.textdet.totaltext_converter data/totaltext [--nproc 4]

Converts both splits, ``ROOT/imgs/{training,test}`` with ``ROOT/annotations/{training,test}``
(``poly_gt_<stem>.txt`` or ``.mat``, see ``ocr_ds.datasets.textdet.totaltext_gt``).
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import annotation, image_info
from ocr_ds.datasets.textdet.totaltext_gt import DONT_CARE, pair_files, read_totaltext
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import convert_splits, parser

SPLITS = ("training", "test")


def collect_files(img_dir: str, gt_dir: str, split: str = "") -> list[tuple[str, str]]:
    return pair_files(img_dir, gt_dir)


def load_img_info(files: tuple[str, str]) -> dict:
    """Single-point regions are dropped, as MMOCR drops them."""
    img_file, gt_file = files
    info = image_info(img_file, gt_file)
    info["anno_info"] = [annotation(contour, int(text == DONT_CARE), gt_file, text, True)
                         for contour, text in read_totaltext(gt_file) if contour.shape[0] != 2]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("totaltext_converter", "Convert totaltext annotations to COCO format",
               "Totaltext root path", out_dir=False, split_list=False)
    args = p.parse_args(argv)
    convert_splits(args.root_path, args.root_path, SPLITS, collect_files,
                   lambda split: load_img_info, args.nproc)
    return 0


if __name__ == "__main__":
    run_cli(main)

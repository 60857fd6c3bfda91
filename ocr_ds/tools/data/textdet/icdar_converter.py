"""ICDAR 2015 / 2017 (MLT) detection annotations -> ``instances_<split>.json`` (MMOCR 0.6.3's
``tools/data/textdet/icdar_converter.py``, same arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.icdar_converter data/icdar2015 -o data/icdar2015 \\
        -d icdar2015 --split-list training test [--nproc 4]

Reads ``ROOT/imgs/<split>/<name>.{png,jpg,jpeg}`` (either case) with
``ROOT/annotations/<split>/gt_<name>.txt``: ``x1,y1,...,x4,y4,transcription`` lines (icdar2015;
a UTF-8 BOM allowed), ``x1,y1,...,x4,y4,script,transcription`` (icdar2017); ``###`` marks a
don't-care region (``iscrowd=1``). Writes ``OUT_DIR/instances_<split>.json``.
"""
from __future__ import annotations

from functools import partial
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import annotation, image_info, pair_by_name
from ocr_ds.datasets.textdet.icdar_txt import is_dont_care, parse_icdar_txt
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import convert_splits, parser

DATASETS = ("icdar2015", "icdar2017")


def collect_files(img_dir: str, gt_dir: str, split: str = "") -> list[tuple[str, str]]:
    """``(image, gt_<stem>.txt)`` pairs, in MMOCR's image order."""
    return pair_by_name(img_dir, gt_dir, lambda stem: f"gt_{stem}.txt")


def load_img_info(files: tuple[str, str], dataset: str) -> dict:
    """``img_info`` with its ``anno_info``; MMOCR's ICDAR annotations carry no ``text``."""
    img_file, gt_file = files
    info = image_info(img_file, gt_file)
    info["anno_info"] = [annotation(xy, int(is_dont_care(text)), gt_file)
                         for xy, text in parse_icdar_txt(gt_file, dataset)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("icdar_converter", "Convert ICDAR 2015 or 2017 annotations to COCO format",
               "ICDAR root path")
    p.add_argument("-d", "--dataset", required=True, choices=DATASETS,
                   help="icdar2015 or icdar2017")
    args = p.parse_args(argv)
    convert_splits(args.root_path, args.out_dir or args.root_path, args.split_list,
                   collect_files, lambda split: partial(load_img_info, dataset=args.dataset),
                   args.nproc)
    return 0


if __name__ == "__main__":
    run_cli(main)

"""SCUT-CTW1500 detection annotations -> ``instances_<split>.json`` (MMOCR 0.6.3's
``tools/data/textdet/ctw1500_converter.py``, same arguments, byte-identical output)::

    python -m ocr_ds.tools.data.textdet.ctw1500_converter data/ctw1500 -o data/ctw1500 \\
        --split-list training test [--nproc 4]

``ROOT/imgs/training/<stem>.jpg`` pairs with ``ROOT/annotations/training/<stem>.xml``,
``ROOT/imgs/test/<stem>.jpg`` with ``ROOT/annotations/test/000<stem>.txt`` (see
``ocr_ds.datasets.textdet.ctw1500_gt``). Only the splits ``training`` and ``test`` exist.
"""
from __future__ import annotations

from functools import partial
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import annotation, image_info, pair_by_name
from ocr_ds.datasets.textdet.ctw1500_gt import parse_ctw1500_txt, parse_ctw1500_xml
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import convert_splits, parser

SPLITS = ("training", "test")


def collect_files(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str]]:
    """``(image, <stem>.xml)`` (training) or ``(image, 000<stem>.txt)`` (test) pairs."""
    return pair_by_name(img_dir, gt_dir, lambda stem: f"{stem}.xml" if split == "training"
                        else f"000{stem}.txt")


def load_img_info(files: tuple[str, str], split: str) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file)
    if split == "training":
        info["anno_info"] = [annotation(xy, 0, gt_file, text, True, bbox)
                             for xy, text, bbox in parse_ctw1500_xml(gt_file)]
    else:
        info["anno_info"] = [annotation(xy, 0, gt_file, text, True)
                             for xy, text in parse_ctw1500_txt(gt_file)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("ctw1500_converter", "Convert ctw1500 annotations to COCO format",
               "ctw1500 root path")
    args = p.parse_args(argv)
    for split in args.split_list:
        if split not in SPLITS:
            raise UserError(f"--split-list: expected training and/or test (got {split!r})")
    convert_splits(args.root_path, args.out_dir or args.root_path, args.split_list,
                   collect_files, lambda split: partial(load_img_info, split=split), args.nproc)
    return 0


if __name__ == "__main__":
    run_cli(main)

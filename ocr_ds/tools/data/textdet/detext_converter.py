"""DeText (text in medical images) annotations -> ``instances_{training,val}.json`` (MMOCR 0.6.3's
``tools/data/textdet/detext_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.detext_converter data/detext [--nproc 4]

Reads ``ROOT/imgs/<split>/<name>.jpg`` (in directory order, as MMOCR lists them) with
``ROOT/annotations/<split>/gt_<name>.txt``: ``x1,y1,...,x4,y4,transcript`` lines read as
SROIE's are (``ocr_ds.tools.data.textdet.sroie_converter``: lines whose first 8 fields are not
integers skipped; the transcript after the 8th comma); ``###`` marks a don't-care region
(``iscrowd=1``). Writes ``ROOT/instances_<split>.json``.
"""
from __future__ import annotations

from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import image_info, pair_listed, points_box_annotation
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import main_in_root
from ocr_ds.tools.data.textdet.sroie_converter import read_quads

SPLITS = ("training", "val")
DONT_CARE = "###"


def collect_files(img_dir: str, gt_dir: str, split: str = "") -> list[tuple[str, str]]:
    """``(image, gt_<image, jpg -> txt>)`` of every file of ``img_dir``, in directory order."""
    return pair_listed(img_dir, gt_dir, lambda name: "gt_" + name.replace("jpg", "txt"))


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    info["anno_info"] = [points_box_annotation(quad, int(word == DONT_CARE))
                         for quad, word in read_quads(gt_file)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    return main_in_root(argv, "detext_converter", "Generate training and val set of DeText",
                        "Root dir path of DeText", SPLITS, collect_files,
                        lambda split: load_img_info)


if __name__ == "__main__":
    run_cli(main)

"""VinText (Vietnamese scene text) annotations -> ``instances_{training,test,unseen_test}.json``
(MMOCR 0.6.3's ``tools/data/textdet/vintext_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.vintext_converter data/vintext [--nproc 4]

Reads ``ROOT/imgs/<split>/imNNNN.jpg`` (in directory order, as MMOCR lists them) with
``ROOT/annotations/gt_<N>.txt``: UTF-8 ``x1,y1,...,x4,y4,text`` lines (the text may hold
commas); ``###`` marks a don't-care region (``iscrowd=1``). A quadrangle becomes its integer
bounding box (not clipped), ``area = w * h``, its 8 numbers as the polygon; ``file_name`` is the
bare image name. Writes ``ROOT/instances_<split>.json``. Blank lines are skipped here (MMOCR:
a traceback).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import (image_info, loaded, points_box_annotation,
                                                  text_lines)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import main_in_root

SPLITS = ("training", "test", "unseen_test")
DONT_CARE = "###"


def collect_files(img_dir: str, gt_dir: str) -> list[tuple[str, str]]:
    """``(imNNNN.<ext>, gt_<N>.txt)`` of every file of ``img_dir``, in directory order."""
    files = []
    for name in os.listdir(img_dir):
        try:
            number = int(name[2:6])
        except ValueError:
            raise UserError(f"{os.path.join(img_dir, name)}: expected VinText's image names "
                            f"imNNNN.jpg") from None
        gt_file = os.path.join(gt_dir, f"gt_{number}.txt")
        if not os.path.isfile(gt_file):
            raise UserError(f"{gt_file}: missing annotation file of image "
                            f"{os.path.join(img_dir, name)}")
        files.append((os.path.join(img_dir, name), gt_file))
    return loaded(files, img_dir)


def read_quads(gt_file: str) -> list[tuple[list[int], str]]:
    """``[(8 integers, text), ...]``."""
    from ocr_ds.fileio import read_text

    out = []
    for n, line in enumerate(text_lines(read_text(gt_file, "VinText annotation file")), 1):
        if not line.strip():
            continue
        fields = line.split(",", 8)
        try:
            if len(fields) < 8:
                raise ValueError
            quad = [int(v) for v in fields[:8]]
        except ValueError:
            raise UserError(f"{gt_file}:{n}: expected x1,y1,...,x4,y4,text with integer "
                            f"coordinates (got {line!r})") from None
        out.append((quad, fields[8] if len(fields) > 8 else ""))
    return out


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    info["anno_info"] = [points_box_annotation(quad, int(word == DONT_CARE), clip=False)
                         for quad, word in read_quads(gt_file)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    def collect(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str]]:
        return collect_files(img_dir, os.path.dirname(gt_dir))

    return main_in_root(argv, "vintext_converter", "Generate training and test set of VinText",
                        "Root dir path of VinText", SPLITS, collect, lambda split: load_img_info)


if __name__ == "__main__":
    run_cli(main)

"""SROIE receipt annotations -> ``instances_{training,test}.json`` (MMOCR 0.6.3's
``tools/data/textdet/sroie_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.sroie_converter data/sroie [--nproc 4]

Reads every ``ROOT/annotations/<split>/<name>.txt`` (in name order; SROIE's repeated and
image-less files, a name with ``(`` and ``X51006619570.txt``, left out as MMOCR leaves them out)
with the image ``ROOT/imgs/<split>/<name>.jpg``: ``x1,y1,...,x4,y4,transcript`` lines, a line
whose first 8 fields are not integers skipped. A quadrangle becomes its integer bounding box
(clipped at 0), ``area = w * h``, and its 8 numbers as the polygon; ``file_name`` is the bare
image name. Writes ``ROOT/instances_<split>.json``. A line of fewer than 8 numbers is skipped
here (MMOCR makes a box of them); the files are read as UTF-8 (Latin-1 where not UTF-8), not
with Python escapes (MMOCR's ``unicode_escape``).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import (image_info, loaded, points_box_annotation,
                                                  text_lines)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import main_in_root

SPLITS = ("training", "test")
LEFT_OUT = "X51006619570.txt"


def collect_files(img_dir: str, gt_dir: str, split: str = "") -> list[tuple[str, str]]:
    """``(<name>.jpg, <name>.txt)`` of every annotation file but SROIE's repeated ones."""
    if not os.path.isdir(gt_dir):
        raise UserError(f"{gt_dir}: annotation directory of split {split!r} not found")
    files = []
    for name in sorted(os.listdir(gt_dir)):
        if "(" in name or name == LEFT_OUT:
            continue
        if os.path.splitext(name)[1] != ".txt":
            raise UserError(f"{os.path.join(gt_dir, name)}: expected only .txt annotation files")
        files.append((os.path.join(img_dir, name.replace(".txt", ".jpg")),
                      os.path.join(gt_dir, name)))
    return loaded(files, img_dir)


def read_quads(gt_file: str) -> list[tuple[list[int], str]]:
    """``[(8 integers, transcript), ...]``; the transcript is everything after the 8th comma."""
    with open(gt_file, "rb") as f:
        data = f.read()
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = data.decode("latin-1")
    out = []
    for line in text_lines(content):
        fields = line.split(",", 8)
        try:
            quad = [int(v) for v in fields[:8]]
        except ValueError:
            continue
        if len(quad) == 8:
            out.append((quad, fields[8].strip() if len(fields) > 8 else ""))
    return out


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    info["anno_info"] = [points_box_annotation(quad) for quad, _ in read_quads(gt_file)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    return main_in_root(argv, "sroie_converter", "Generate training and test set of SROIE",
                        "Root dir path of SROIE", SPLITS, collect_files,
                        lambda split: load_img_info)


if __name__ == "__main__":
    run_cli(main)

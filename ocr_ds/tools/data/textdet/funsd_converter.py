"""FUNSD form annotations -> ``instances_{training,test}.json`` (MMOCR 0.6.3's
``tools/data/textdet/funsd_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.funsd_converter data/funsd [--nproc 4]

Reads ``ROOT/annotations/<split>/<name>.json`` (in name order; ``{"form": [{"words": [{"box":
[x1, y1, x2, y2], "text": ...}, ...]}, ...]}``) with the image ``ROOT/imgs/<name>.png`` (one
image folder for both splits). A word's box becomes integer ``[x, y, w, h]`` (floor of the
corners, clipped at 0; ceil of the sides), an empty text ``iscrowd=1``; ``file_name`` is the
image's bare name. Writes ``ROOT/instances_<split>.json``.
"""
from __future__ import annotations

import math
import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import (box_annotation, image_info, loaded,
                                                  read_json_file)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import main_in_root

SPLITS = ("training", "test")


def collect_files(img_dir: str, gt_dir: str) -> list[tuple[str, str]]:
    """``(ROOT/imgs/<name>.png, <name>.json)`` of every annotation file, in name order."""
    if not os.path.isdir(gt_dir):
        raise UserError(f"{gt_dir}: annotation directory not found "
                        f"(expected ROOT/imgs and ROOT/annotations/<split>)")
    files = []
    for name in sorted(os.listdir(gt_dir)):
        if os.path.splitext(name)[1] != ".json":
            raise UserError(f"{os.path.join(gt_dir, name)}: expected only .json annotation files")
        files.append((os.path.join(img_dir, name.replace(".json", ".png")),
                      os.path.join(gt_dir, name)))
    return loaded(files, img_dir)


def read_words(gt_file: str) -> list[tuple[list[int], str]]:
    """``[([x, y, w, h], text), ...]`` of every word of every form entry."""
    ann = read_json_file(gt_file, "FUNSD annotation")
    out = []
    try:
        for form in ann["form"]:
            for word in form["words"]:
                x1, y1, x2, y2 = word["box"]
                text = word["text"]
                x = max(0, min(math.floor(x1), math.floor(x2)))
                y = max(0, min(math.floor(y1), math.floor(y2)))
                out.append(([x, y, math.ceil(abs(x2 - x1)), math.ceil(abs(y2 - y1))], text))
    except (KeyError, TypeError, ValueError):
        raise UserError(f'{gt_file}: expected {{"form": [{{"words": [{{"box": [x1, y1, x2, y2], '
                        f'"text": "..."}}, ...]}}, ...]}} with numeric boxes') from None
    return out


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    info["anno_info"] = [box_annotation(*box, iscrowd=int(len(text) == 0))
                         for box, text in read_words(gt_file)]
    return info


def main(argv: Sequence[str] | None = None) -> int:
    def collect(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str]]:
        return collect_files(os.path.join(os.path.dirname(os.path.dirname(gt_dir)), "imgs"),
                             gt_dir)

    return main_in_root(argv, "funsd_converter", "Generate training and test set of FUNSD",
                        "Root dir path of FUNSD", SPLITS, collect, lambda split: load_img_info,
                        img_dirs=False)


if __name__ == "__main__":
    run_cli(main)

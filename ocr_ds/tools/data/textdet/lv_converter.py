"""Lecture Video DB annotations -> ``instances_{train,val,test}.json`` (MMOCR 0.6.3's
``tools/data/textdet/lv_converter.py``, same arguments; the same JSON but for ``file_name``)::

    python -m ocr_ds.tools.data.textdet.lv_converter data/lv [--nproc 4]

Reads every ``ROOT/imgs/<split>/<video>/<frame>/<name>.xml`` (Pascal VOC ``<object><bndbox>``)
that has ``<name>.png`` beside it, in directory order as MMOCR lists them; a box becomes
``[x, y, w, h]`` (x, y clipped at 0), ``area = w * h``, its corners as the polygon. Writes
``ROOT/instances_<split>.json``. Differs: ``file_name`` / ``segm_file`` are the paths under
``imgs/<split>`` (``<video>/<frame>/<name>.png``), which a dataset with that ``img_prefix``
finds; MMOCR writes the bare ``<name>.png``, which names no file there (and is the same for
every frame of that name).
"""
from __future__ import annotations

import os
from typing import Sequence

from ocr_ds.datasets.textdet.coco_convert import (box_annotation, loaded, read_image_size,
                                                  require_dirs)
from ocr_ds.errors import run_cli
from ocr_ds.tools.data.textdet._common import main_in_root
from ocr_ds.tools.data.textdet.ilst_converter import read_boxes

SPLITS = ("train", "val", "test")


def collect_files(img_dir: str, gt_dir: str = "", split: str = "") -> list[tuple[str, str]]:
    """``(<name>.png, <name>.xml)`` of every frame folder of every video folder."""
    files = []
    for video in os.listdir(img_dir):
        if not os.path.isdir(os.path.join(img_dir, video)):
            continue
        for frame in os.listdir(os.path.join(img_dir, video)):
            folder = os.path.join(img_dir, video, frame)
            if not os.path.isdir(folder):
                continue
            for name in os.listdir(folder):
                if name.endswith("xml"):
                    img_path = os.path.join(folder, name.replace("xml", "png"))
                    if os.path.exists(img_path):
                        files.append((img_path, os.path.join(folder, name)))
    return loaded(files, img_dir)


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    top = os.path.dirname(os.path.dirname(os.path.dirname(img_file)))
    height, width = read_image_size(img_file)
    return dict(file_name=os.path.relpath(img_file, top), height=height, width=width,
                segm_file=os.path.relpath(gt_file, top),
                anno_info=[box_annotation(x, y, abs(x2 - x), abs(y2 - y))
                           for (x, y, x2, y2), _ in read_boxes(gt_file, corners=True)])


def main(argv: Sequence[str] | None = None) -> int:
    def collect(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str]]:
        require_dirs(os.path.dirname(os.path.dirname(img_dir)), [split])
        return collect_files(img_dir)

    return main_in_root(argv, "lv_converter", "Generate training, val and test set of Lecture "
                        "Video DB", "Root dir path of Lecture Video DB", SPLITS, collect,
                        lambda split: load_img_info)


if __name__ == "__main__":
    run_cli(main)

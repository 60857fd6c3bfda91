"""ICDAR 2013 (Focused Scene Text) detection annotations -> ``instances_{training,test}.json``
(MMOCR 0.6.3's ``tools/data/textdet/ic13_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.ic13_converter data/icdar2013 [--nproc 4]

Reads every file of ``ROOT/imgs/{training,test}`` (in name order) with
``ROOT/annotations/<split>/gt_<name up to its first dot>.txt``: ``left top right bottom "text"``
lines in training, ``left, top, right, bottom, "text"`` in test. A box becomes ``bbox [x, y, w,
h]`` (x, y clipped at 0), ``area = w * h`` and its four corners; ``file_name`` is the image's
bare name. Writes ``ROOT/instances_<split>.json``. Blank lines and a UTF-8 BOM are skipped here
(MMOCR stops at them).
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import (box_annotation, pair_listed, read_image_size,
                                                  text_lines)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import main_in_root

SEPARATORS = {"training": " ", "test": ","}


def gt_path(gt_dir: str, img_name: str) -> str:
    """MMOCR's ``gt_<name up to its first dot>.txt``."""
    return os.path.join(gt_dir, "gt_" + img_name.split(".")[0] + ".txt")


def collect_files(img_dir: str, gt_dir: str, split: str = "") -> list[tuple[str, str, Any]]:
    """``(image, annotation, None)`` of every file of ``img_dir`` in name order (MMOCR's
    sorted image and annotation lists, paired in order)."""
    return [(img, gt, None) for img, gt in pair_listed(
        img_dir, gt_dir, lambda name: os.path.basename(gt_path(gt_dir, name)), by_name=True)]


def read_boxes(gt_file: str, separator: str) -> list[dict]:
    """The ``anno_info`` of one file of ``left<sep>top<sep>right<sep>bottom<sep>...`` lines."""
    from ocr_ds.fileio import read_text

    sep = "," if separator == "," else "' '"
    anno_info = []
    for n, line in enumerate(text_lines(read_text(gt_file, "annotation file")), 1):
        if not line.strip():
            continue
        fields = line.split(separator)
        try:
            if len(fields) < 4:
                raise ValueError
            xmin, ymin, xmax, ymax = (int(v) for v in fields[:4])
        except ValueError:
            raise UserError(f"{gt_file}:{n}: expected left, top, right, bottom as integers "
                            f"separated by {sep} (got {line!r})") from None
        x, y = max(0, xmin), max(0, ymin)
        anno_info.append(box_annotation(x, y, xmax - x, ymax - y))
    return anno_info


def load_img_info(files: tuple[str, str, Any], separator: str) -> dict:
    """``img_info`` with bare file names; ``files[2]``: the image's ``(height, width)`` where
    it is not read from ``files[0]`` (IC11's GIFs, converted at the end)."""
    img_file, gt_file, size = files
    height, width = size or read_image_size(img_file)
    return dict(file_name=os.path.basename(img_file), height=height, width=width,
                segm_file=os.path.basename(gt_file), anno_info=read_boxes(gt_file, separator))


def main(argv: Sequence[str] | None = None) -> int:
    return main_in_root(argv, "ic13_converter", "Generate training and test set of IC13",
                        "Root dir path of IC13", list(SEPARATORS), collect_files,
                        lambda split: partial(load_img_info, separator=SEPARATORS[split]))


if __name__ == "__main__":
    run_cli(main)

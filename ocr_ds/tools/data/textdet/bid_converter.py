"""BID (Brazilian identity documents) annotations -> ``instances_training.json`` (and
``instances_val.json`` with ``--val-ratio``) (MMOCR 0.6.3's ``tools/data/textdet/
bid_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.bid_converter data/bid [--val-ratio 0.2] [--nproc 4]

Reads ``ROOT/imgs/<ID>_<...>.jpg`` (in directory order, as MMOCR lists them) with
``ROOT/annotations/<ID>_gt_ocr.txt``: Latin-1 ``x, y, w, h, text`` lines (a line starting with
``x`` or ``[``, the header and the hard samples, skipped); the box as it is, ``area = w * h``,
its corners as the polygon; ``file_name`` is the bare image name. ``--val-ratio R``: the first
``int(n * R)`` images become the val split. Differs: with ``int(n * R) < 1`` every image stays
in training (MMOCR puts them all into val and writes an empty training set); blank lines are
skipped (MMOCR: a traceback); R outside [0, 1] is refused.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from ocr_ds.datasets.textdet.coco_convert import (box_annotation, image_info, map_images,
                                                  pair_listed, text_lines)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import parser, write_instances


def root_dirs(root: str) -> tuple[str, str]:
    """``ROOT/imgs`` (which must exist) and ``ROOT/annotations``."""
    img_dir, gt_dir = os.path.join(root, "imgs"), os.path.join(root, "annotations")
    if not os.path.isdir(img_dir):
        raise UserError(f"{img_dir}: image directory not found (expected ROOT/imgs and "
                        f"ROOT/annotations)")
    return img_dir, gt_dir


def collect_files(root: str) -> list[tuple[str, str]]:
    """``(image, <ID>_gt_ocr.txt)`` of every file of ``ROOT/imgs``, in directory order."""
    return pair_listed(*root_dirs(root), lambda name: name.split("_")[0] + "_gt_ocr.txt")


def read_boxes(gt_file: str) -> list[tuple[list[int], str]]:
    """``[([x, y, w, h], text), ...]`` (text: after the 4th comma, stripped)."""
    with open(gt_file, "rb") as f:
        content = f.read().decode("latin-1")
    out = []
    for n, line in enumerate(text_lines(content), 1):
        if not line.strip() or line[0] in "[x":
            continue
        fields = line.split(",", 4)
        try:
            if len(fields) < 4:
                raise ValueError
            box = [int(v) for v in fields[:4]]
        except ValueError:
            raise UserError(f"{gt_file}:{n}: expected x, y, w, h, text with integer x, y, w, h "
                            f"(got {line!r})") from None
        out.append((box, fields[4].strip() if len(fields) > 4 else ""))
    return out


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    info["anno_info"] = [box_annotation(*box) for box, _ in read_boxes(gt_file)]
    return info


def split_val(items: list[Any], val_ratio: float) -> dict[str, list[Any]]:
    """``{"training": ...}``, or with a ratio ``{"training": rest, "val": first int(n * R)}``."""
    if not 0 <= val_ratio <= 1:
        raise UserError(f"--val-ratio: expected a number in [0, 1] (got {val_ratio})")
    if not val_ratio:
        return {"training": items}
    offset = int(len(items) * val_ratio)
    return {"training": items[offset:], "val": items[:offset]}


def add_val_ratio(p: Any) -> None:
    p.add_argument("--val-ratio", default=0.0, type=float,
                   help="Split ratio for val set (0: no val split)")


def main_val(argv: Sequence[str] | None, name: str, dataset: str,
             collect: Callable[[str], list[tuple[str, str]]],
             load: Callable[[tuple[str, str]], dict | None]) -> int:
    """``ROOT [--val-ratio R] [--nproc N]``: ``instances_training.json`` (and ``_val``) of
    ``collect(ROOT)``'s pairs; ``load`` gives ``None`` for an image to leave out (after the
    split, as MMOCR leaves ILST's broken images out)."""
    p = parser(name, f"Generate training and val set of {dataset}",
               f"Root dir path of {dataset}", out_dir=False, split_list=False)
    add_val_ratio(p)
    args = p.parse_args(argv)
    split_val([], args.val_ratio)
    infos = map_images(load, collect(args.root_path), args.nproc)
    return write_instances(args.root_path, {
        split: [info for info in part if info is not None]
        for split, part in split_val(infos, args.val_ratio).items()})


def main(argv: Sequence[str] | None = None) -> int:
    return main_val(argv, "bid_converter", "BID", collect_files, load_img_info)


if __name__ == "__main__":
    run_cli(main)

"""KAIST scene text annotations -> ``instances_training.json`` (and ``instances_val.json`` with
``--val-ratio``) (MMOCR 0.6.3's ``tools/data/textdet/kaist_converter.py``, same arguments,
byte-identical)::

    python -m ocr_ds.tools.data.common.extract_kaist data/kaist   # the zips -> imgs/, annotations/
    python -m ocr_ds.tools.data.textdet.kaist_converter data/kaist [--val-ratio 0.2] [--nproc 4]

Reads every ``ROOT/imgs/<name>.jpg`` (in name order) with ``ROOT/annotations/<name>.xml``
(``<word x y width height>`` elements); a word becomes ``[x, y, w, h]`` (x, y clipped at 0),
``area = w * h``, its corners as the polygon; ``file_name`` is the bare image name.
``--val-ratio R`` (below 1): every ``floor(1 / R)``-th image, from the first, is a val image;
``instances_val.json`` is written when there is one.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import (box_annotation, image_info, map_images,
                                                  pair_listed, read_xml_root)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import parser, write_instances
from ocr_ds.tools.data.textdet.bid_converter import root_dirs


def collect_files(root: str) -> list[tuple[str, str]]:
    """``(image, <name up to its first dot>.xml)`` of every file of ``ROOT/imgs``, by name."""
    return pair_listed(*root_dirs(root), lambda name: name.split(".")[0] + ".xml", by_name=True)


def split_every(files: list[Any], ratio: float) -> dict[str, list[Any]]:
    """``{"training": ..., "val": every floor(1 / ratio)-th}`` (``val`` only when not empty)."""
    if not 0 <= ratio < 1:
        raise UserError(f"--val-ratio: expected a number in [0, 1) (got {ratio})")
    if ratio <= 0:
        return {"training": files}
    step = math.floor(1 / ratio)
    parts = {"training": [f for i, f in enumerate(files) if i % step],
             "val": [f for i, f in enumerate(files) if not i % step]}
    print(f"training #{len(parts['training'])}, val #{len(parts['val'])}")
    return parts


def read_words(gt_file: str) -> list[tuple[list[int], str]]:
    """``[([x, y, w, h], word), ...]`` of every ``<word>`` (the word: its characters' ``char``)."""
    root = read_xml_root(gt_file)
    out = []
    for n, word in enumerate(root.iter("word"), 1):
        try:
            x, y, w, h = (int(word.attrib[k]) for k in ("x", "y", "width", "height"))
            text = "".join(c.attrib["char"] for c in word.iter("character"))
        except (KeyError, ValueError):
            raise UserError(f"{gt_file}: <word> {n}: expected integer x, y, width, height and "
                            f"<character char=...> elements") from None
        out.append(([max(0, x), max(0, y), w, h], text))
    return out


def load_img_info(files: tuple[str, str]) -> dict:
    info = image_info(*files, bare=True)
    info["anno_info"] = [box_annotation(*box) for box, _ in read_words(files[1])]
    return info


def add_val_ratio(p: Any) -> None:
    p.add_argument("--val-ratio", default=0.0, type=float,
                   help="Split ratio for val set: every floor(1/R)-th image (0: none)")


def main(argv: Sequence[str] | None = None) -> int:
    p = parser("kaist_converter", "Generate training and val set of KAIST",
               "Root dir path of KAIST", out_dir=False, split_list=False)
    add_val_ratio(p)
    args = p.parse_args(argv)
    split_every([], args.val_ratio)
    parts = split_every(collect_files(args.root_path), args.val_ratio)
    return write_instances(args.root_path, {
        split: map_images(load_img_info, files, args.nproc)
        for split, files in parts.items() if files or split == "training"})


if __name__ == "__main__":
    run_cli(main)

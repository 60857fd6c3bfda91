"""What every detection converter shares: MMOCR's arguments, the split loop, the writing."""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Sequence

from ocr_ds.datasets.textdet.coco_convert import (coco_json, map_images, require_dirs,
                                                  to_coco, write_outputs)
from ocr_ds.errors import CliParser


def parser(name: str, description: str, root_help: str, out_dir: bool = True,
           split_list: bool = True) -> CliParser:
    """MMOCR's ``ROOT [-o OUT_DIR] [--split-list SPLIT ...] [--nproc N]``."""
    p = CliParser(prog=f"python -m ocr_ds.tools.data.textdet.{name}", description=description)
    p.add_argument("root_path", help=root_help + " (with imgs/<split> and annotations/<split>)")
    if out_dir:
        p.add_argument("-o", "--out-dir", help="output folder (default: root_path)")
    if split_list:
        p.add_argument("--split-list", nargs="+", required=True, metavar="SPLIT",
                       help='splits to convert, e.g. "--split-list training test"')
    p.add_argument("--nproc", default=1, type=int, help="number of processes (1)")
    return p


def convert_splits(root: str, out_dir: str, splits: Sequence[str],
                   collect: Callable[[str, str, str], list[Any]],
                   load: Callable[[str], Callable[[Any], dict[str, Any]]],
                   nproc: int, img_dirs: bool = True) -> list[str]:
    """``instances_<split>.json`` of every split in ``out_dir``; ``collect(img_dir, gt_dir,
    split)`` lists the (image, annotation) pairs, ``load(split)(pair)`` gives one ``img_info``
    (a picklable function, for ``--nproc``).
    Nothing is written until every split converted; ``img_dirs=False``: no ``ROOT/imgs/<split>``
    is required (one image folder for all splits)."""
    splits = list(dict.fromkeys(splits))
    if img_dirs:
        require_dirs(root, splits)
    outputs = {}
    for split in splits:
        json_name = f"instances_{split}.json"
        print(f"Converting {split} into {json_name}")
        start = time.monotonic()
        files = collect(os.path.join(root, "imgs", split), os.path.join(root, "annotations", split),
                        split)
        coco = to_coco(map_images(load(split), files, nproc))
        outputs[os.path.join(out_dir, json_name)] = coco_json(coco)
        n_ann = len(coco.get("annotations", []))
        print(f"{split}: {len(coco['images'])} images, {n_ann} annotations "
              f"({time.monotonic() - start:.1f} s)")
    write_outputs(outputs)
    for path in outputs:
        print(f"wrote {path}")
    return list(outputs)


def main_in_root(argv: Sequence[str] | None, name: str, description: str, root_help: str,
                 splits: Sequence[str], collect: Callable[[str, str, str], list[Any]],
                 load: Callable[[str], Callable[[Any], dict[str, Any]]],
                 img_dirs: bool = True) -> int:
    """``ROOT [--nproc N]`` converters of fixed splits, writing ``ROOT/instances_<split>.json``."""
    args = parser(name, description, root_help, out_dir=False, split_list=False).parse_args(argv)
    convert_splits(args.root_path, args.root_path, splits, collect, load, args.nproc, img_dirs)
    return 0


def write_instances(root: str, parts: dict[str, list[dict[str, Any]]]) -> int:
    """``ROOT/instances_<split>.json`` of every split's ``img_info`` list, written together."""
    outputs = {os.path.join(root, f"instances_{split}.json"): coco_json(to_coco(infos))
               for split, infos in parts.items()}
    write_outputs(outputs)
    for path in outputs:
        print(f"wrote {path}")
    return 0

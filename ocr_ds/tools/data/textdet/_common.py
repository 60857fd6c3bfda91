"""What every detection converter shares: MMOCR's arguments, the split loop, the writing."""
from __future__ import annotations

import os
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
    infos = {}
    for split in splits:
        json_name = f"instances_{split}.json"
        print(f"Converting {split} into {json_name}")
        files = collect(os.path.join(root, "imgs", split), os.path.join(root, "annotations", split),
                        split)
        infos[os.path.join(out_dir, json_name)] = map_images(load(split), files, nproc)
    return write_cocos(infos)


def write_cocos(infos: dict[str, list[dict[str, Any]]]) -> list[str]:
    """``{json path: [img_info, ...]}`` as ``mmocr.utils.convert_annotations`` writes them, all
    at once after every one was assembled."""
    outputs = {}
    for path, image_infos in infos.items():
        coco = to_coco(image_infos)
        outputs[path] = coco_json(coco)
        print(f"{os.path.basename(path)}: {len(coco['images'])} images, "
              f"{len(coco.get('annotations', []))} annotations")
    write_outputs(outputs)
    for path in outputs:
        print(f"wrote {path}")
    return list(outputs)


def convert_art_lsvt(argv: Sequence[str] | None, name: str, dataset: str, label_file: str,
                     art: bool) -> int:
    """ArT's and LSVT's detection converter: ``ROOT [--val-ratio R]``."""
    from ocr_ds.datasets.textdet.json_gt import (art_lsvt_infos, art_lsvt_items, check_ratio,
                                                 load_json, ratio_split)

    p = CliParser(prog=f"python -m ocr_ds.tools.data.textdet.{name}",
                  description=f"Generate training and validation set of {dataset}")
    p.add_argument("root_path", help=f"Root dir path of {dataset} (with annotations/{label_file} "
                   "and imgs/)")
    p.add_argument("--val-ratio", default=0.0, type=float, help="Split ratio for val set (0.0)")
    args = p.parse_args(argv)
    ratio = check_ratio(args.val_ratio)
    path = os.path.join(args.root_path, "annotations", label_file)
    train, val = ratio_split(art_lsvt_items(load_json(path, f"{dataset} label file"), path), ratio)
    print(f"training #{len(train)}, val #{len(val)}")
    outputs = {os.path.join(args.root_path, "instances_training.json"):
               art_lsvt_infos(args.root_path, path, train, art)}
    if ratio > 0:
        outputs[os.path.join(args.root_path, "instances_val.json")] = art_lsvt_infos(
            args.root_path, path, val, art)
    write_cocos(outputs)
    return 0


def convert_listed(argv: Sequence[str] | None, name: str, dataset: str) -> int:
    """RCTW's, ReCTS's and MTWI's detection converter: ``ROOT [--val-ratio R] [--nproc N]``."""
    from ocr_ds.datasets.textdet.coco_convert import map_images
    from ocr_ds.datasets.textdet.json_gt import check_ratio
    from ocr_ds.datasets.textdet.listed_gt import listed_info, listed_pairs

    p = CliParser(prog=f"python -m ocr_ds.tools.data.textdet.{name}",
                  description=f"Generate training and val set of {dataset}.")
    p.add_argument("root_path", help=f"Root dir path of {dataset} (with imgs/ and annotations/)")
    p.add_argument("--val-ratio", default=0.0, type=float, help="Split ratio for val set (0.0)")
    p.add_argument("--nproc", default=1, type=int, help="Number of process (1)")
    args = p.parse_args(argv)
    root, converted = args.root_path, {} if dataset == "MTWI" else None
    splits = listed_pairs(root, dataset, check_ratio(args.val_ratio), converted)
    outputs = {}
    for split, files in zip(("training", "val"), splits):
        if files or split == "training":
            outputs[os.path.join(root, f"instances_{split}.json")] = map_images(
                listed_info, [(img, gt, dataset, converted or {}) for img, gt in files],
                args.nproc)
    write_converted(converted)
    write_cocos(outputs)
    return 0


def write_converted(converted: dict[str, bytes] | None) -> None:
    """MTWI's images re-saved in RGB, written back as MMOCR writes them (in place)."""
    from ocr_ds.atomic import atomic_write

    for path, data in (converted or {}).items():
        atomic_write(path, data)


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
    write_cocos({os.path.join(root, f"instances_{split}.json"): infos
                 for split, infos in parts.items()})
    return 0

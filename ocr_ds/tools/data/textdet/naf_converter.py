"""NAF (historical forms) annotations -> ``instances_{training,val,test}.json`` (MMOCR 0.6.3's
``tools/data/textdet/naf_converter.py``, same arguments, byte-identical)::

    python -m ocr_ds.tools.data.textdet.naf_converter data/naf [--nproc 4]

Reads ``ROOT/annotations/train_valid_test_split.json`` (``{"train"|"valid"|"test": {GROUP:
[image, ...]}}``); each listed ``ROOT/imgs/<image>`` with its
``ROOT/annotations/groups/<GROUP>/<image, jpg -> json>`` (a pair with either file missing is
left out, as NAF's split lists images it does not ship): the ``textBBs`` and the ``fieldBBs``
that are not ``type: blank``, each polygon's integer bounding box (clipped at 0), ``area = w *
h``, its points as the polygon; ``file_name`` is the bare image name. Writes
``ROOT/instances_<split>.json``, in the split file's order.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

from ocr_ds.datasets.textdet.coco_convert import (image_info, loaded, points_box_annotation,
                                                  read_json_file)
from ocr_ds.errors import UserError, run_cli
from ocr_ds.tools.data.textdet._common import main_in_root

SPLITS = {"training": "train", "val": "valid", "test": "test"}
SPLIT_FILE = "train_valid_test_split.json"


def split_lists(root: str) -> dict[str, dict[str, list[str]]]:
    """``{split: {group: [image, ...]}}`` of the split file."""
    path = os.path.join(root, "annotations", SPLIT_FILE)
    info = read_json_file(path, "NAF split file")
    if not isinstance(info, dict) or not all(
            isinstance(info.get(key), dict) and all(
                isinstance(v, list) and all(isinstance(n, str) for n in v)
                for v in info[key].values()) for key in SPLITS.values()):
        raise UserError(f'{path}: expected {{"train": {{GROUP: [IMAGE, ...]}}, "valid": ..., '
                        f'"test": ...}}')
    return {split: info[key] for split, key in SPLITS.items()}


def collect_files(root: str, groups: dict[str, list[str]]) -> list[tuple[str, str]]:
    files = []
    for group, images in groups.items():
        for img in images:
            img_path = os.path.join(root, "imgs", img)
            ann_path = os.path.join(root, "annotations", "groups", group,
                                    img.replace("jpg", "json"))
            if os.path.exists(img_path) and os.path.exists(ann_path):
                files.append((img_path, ann_path))
    return loaded(files, os.path.join(root, "imgs"))


def _points(anno: Any) -> list[tuple[Any, Any]]:
    pts = [tuple(p) for p in anno["poly_points"]]
    if not pts or any(len(p) != 2 or not all(isinstance(v, (int, float)) for v in p)
                      for p in pts):
        raise ValueError
    return pts  # type: ignore[return-value]


def read_boxes(gt_file: str) -> dict[str, Any]:
    """The annotation file, checked: ``textBBs`` / ``fieldBBs`` lists of ``{"poly_points":
    [[x, y], ...], "type": ..., "id": ...}``."""
    ann = read_json_file(gt_file, "NAF annotation")
    try:
        for key in ("textBBs", "fieldBBs"):
            for box in ann[key]:
                _points(box)
                box["type"], box["id"]
    except (KeyError, TypeError, ValueError):
        raise UserError(f'{gt_file}: expected {{"textBBs": [...], "fieldBBs": [{{"poly_points": '
                        f'[[x, y], ...], "type": ..., "id": ...}}, ...]}}') from None
    return ann


def load_img_info(files: tuple[str, str]) -> dict:
    img_file, gt_file = files
    info = image_info(img_file, gt_file, bare=True)
    ann = read_boxes(gt_file)
    anno_info = []
    for key in ("textBBs", "fieldBBs"):
        for box in ann[key]:
            if key == "fieldBBs" and box["type"] == "blank":
                continue
            anno_info.append(points_box_annotation([v for p in _points(box) for v in p]))
    info["anno_info"] = anno_info
    return info


def main(argv: Sequence[str] | None = None) -> int:
    lists: dict[str, dict[str, list[str]]] = {}

    def collect(img_dir: str, gt_dir: str, split: str) -> list[tuple[str, str]]:
        root = os.path.dirname(os.path.dirname(gt_dir))
        if not lists:
            lists.update(split_lists(root))
        return collect_files(root, lists[split])

    return main_in_root(argv, "naf_converter", "Generate training, val, and test set of NAF",
                        "Root dir path of NAF", list(SPLITS), collect,
                        lambda split: load_img_info, img_dirs=False)


if __name__ == "__main__":
    run_cli(main)

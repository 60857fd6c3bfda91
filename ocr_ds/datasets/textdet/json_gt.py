"""The JSON annotation files of the large real-world sets, as MMOCR 0.6.3's converters read them.

TextOCR and COCO-Text v2 (``{"imgs": {...}, "anns": {...}, "imgToAnns": {...}}``, COCO-Text's
keys as strings of its integer ids), ArT and LSVT (``{"gt_1": [{"transcription", "points":
[[x, y], ...], "illegibility", ...}, ...], ...}``), with MMOCR's box rules, and MMOCR's
``--val-ratio`` split (every ``floor(1 / ratio)``-th item, from the first, is validation).
Anything MMOCR would stop at with a ``KeyError`` / ``TypeError`` is a one-line error here.
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator, Sequence

from ocr_ds.errors import UserError


def load_json(path: str, what: str) -> Any:
    """``mmcv.load`` of a ``.json`` file; missing or malformed: one line."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: {what} not found")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path}: not a valid JSON file ({exc})") from None


def field(obj: Any, key: Any, where: str, kind: type | tuple = object) -> Any:
    """``obj[key]``, which must exist and be of ``kind``."""
    try:
        value = obj[key]
    except (KeyError, IndexError, TypeError):
        raise UserError(f"{where}: no {key!r} entry") from None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds
                                        and object not in kinds):
        names = "/".join(k.__name__ for k in kinds)
        raise UserError(f"{where}: {key!r} must be a {names} (got {value!r})")
    return value


NUMBER = (int, float)


def numbers(values: Any, where: str, key: str, count: int | None = None) -> list:
    """``values``, which must be a list of numbers (``count`` of them if given)."""
    if (not isinstance(values, list) or any(isinstance(v, bool) or not isinstance(v, NUMBER)
                                            for v in values)
            or (count is not None and len(values) != count)):
        shape = f"{count} numbers" if count is not None else "a list of numbers"
        raise UserError(f"{where}: {key!r} must be {shape} (got {values!r})")
    return values


def floor_box(bbox: Sequence[float]) -> list[int]:
    """TextOCR's / COCO-Text's ``[x, y, w, h]`` as MMOCR rounds it: corner floored (at least 0),
    size rounded up."""
    x, y, w, h = bbox
    return [max(0, math.floor(x)), max(0, math.floor(y)), math.ceil(w), math.ceil(h)]


def coco_text_images(annotation: Any, path: str,
                     str_ids: bool) -> Iterator[tuple[int, dict, list[dict]]]:
    """``(index, img_info, anns)`` of every image of a TextOCR / COCO-Text file, in its order;
    ``str_ids``: COCO-Text's integer ids looked up as strings."""
    imgs = field(annotation, "imgs", path, dict)
    img_to_anns = field(annotation, "imgToAnns", path, dict)
    anns = field(annotation, "anns", path, dict)
    for index, img_info in enumerate(imgs.values()):
        where = f"{path}: image #{index}"
        if not isinstance(img_info, dict):
            raise UserError(f"{where}: expected an object (got {img_info!r})")
        img_id = field(img_info, "id", where)
        key = str(img_id) if str_ids else img_id
        ann_ids = field(img_to_anns, key, f"{path}: imgToAnns", list)
        found = [field(anns, str(a) if str_ids else a, f"{path}: anns", dict) for a in ann_ids]
        for ann_id, ann in zip(ann_ids, found):
            numbers(field(ann, "bbox", f"{path}: anns[{ann_id!r}]"), f"{path}: anns[{ann_id!r}]",
                    "bbox", 4)
        yield index, img_info, found


def check_ratio(ratio: float) -> float:
    """``--val-ratio``: 0 (no validation set) up to, not including, 1."""
    if not 0 <= ratio < 1:
        raise UserError(f"--val-ratio: expected a number from 0 up to (not including) 1 "
                        f"(got {ratio})")
    return ratio


def ratio_split(items: Sequence[Any], ratio: float) -> tuple[list[Any], list[Any]]:
    """MMOCR's split: item ``i`` is validation when ``i % floor(1 / ratio) == 0``."""
    if ratio <= 0:
        return list(items), []
    step = math.floor(1 / ratio)
    return ([x for i, x in enumerate(items) if i % step],
            [x for i, x in enumerate(items) if not i % step])


def point_list(ann: Any, where: str) -> list:
    """ArT's / LSVT's ``points`` (``[[x, y], ...]``) as a flat list, clipped at 0 as MMOCR
    clips it."""
    points = field(ann, "points", where, list)
    flat = []
    for point in points:
        x, y = numbers(point, where, "points", 2)
        flat += [max(0, x), max(0, y)]
    if len(flat) < 6:
        raise UserError(f"{where}: 'points' must hold 3 or more [x, y] points (got {points!r})")
    return flat


def flat_box(segmentation: Sequence[float]) -> tuple[list, Any]:
    """``([x, y, w, h], w * h)`` of a flat polygon, as ArT / LSVT / RCTW take it."""
    xs, ys = segmentation[0::2], segmentation[1::2]
    x, y = min(xs), min(ys)
    w, h = max(xs) - x, max(ys) - y
    return [x, y, w, h], w * h


def art_lsvt_items(annotation: Any, path: str) -> list[tuple[str, list[dict]]]:
    """``[(image prefix, [annotation, ...]), ...]`` of an ArT / LSVT label file."""
    if not isinstance(annotation, dict):
        raise UserError(f"{path}: expected an object of image names (got {type(annotation)})")
    for prefix, anns in annotation.items():
        if not isinstance(anns, list) or not all(isinstance(a, dict) for a in anns):
            raise UserError(f"{path}: {prefix!r} must be a list of objects")
    return list(annotation.items())


def art_lsvt_infos(root: str, path: str, items: list[tuple[str, list[dict]]],
                   art: bool) -> list[dict]:
    """ArT's / LSVT's ``img_info`` of ``ROOT/imgs/<prefix>.jpg`` (images not there are skipped,
    as MMOCR skips them); don't-care: ``illegibility``, for ArT also the text ``###``."""
    from ocr_ds.datasets.textdet.coco_convert import read_image_size

    infos = []
    for prefix, anns in items:
        img_file = os.path.join(root, "imgs", prefix + ".jpg")
        if not os.path.exists(img_file):
            continue
        height, width = read_image_size(img_file, color=True)
        anno_info = []
        for k, ann in enumerate(anns):
            where = f"{path}: {prefix}[{k}]"
            segmentation = point_list(ann, where)
            bbox, area = flat_box(segmentation)
            dont_care = bool(field(ann, "illegibility", where))
            if art:
                dont_care = field(ann, "transcription", where) == "###" or dont_care
            anno_info.append(dict(iscrowd=int(dont_care), category_id=1, bbox=bbox, area=area,
                                  segmentation=[segmentation]))
        infos.append(dict(file_name=os.path.basename(img_file), height=height, width=width,
                          segm_file=os.path.basename(path), anno_info=anno_info))
    return infos

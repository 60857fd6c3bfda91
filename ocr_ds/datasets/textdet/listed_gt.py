"""RCTW-17, ReCTS and MTWI 2018 annotations, as MMOCR 0.6.3's converters of those sets read them.

One annotation file per image in ``ROOT/annotations`` (RCTW, MTWI: ``<name>.txt``; ReCTS:
``<name>.json``), paired with ``ROOT/imgs/<name>.jpg`` in ``os.listdir`` order, MMOCR's: that
order (the file system's) decides which images ``--val-ratio`` puts in the validation set.
RCTW: ``x1,y1,...,x4,y4,difficult,"text"`` lines (integer corners; ``###`` or a difficult flag
other than ``0`` is don't-care); ReCTS: ``{"lines": [{"points": [8 numbers], "ignore": 0|1,
"transcription": ...}], "chars": [...]}``; MTWI: ``x1,y1,...,x4,y4,text`` (float corners, floored;
``###`` is don't-care). Boxes as MMOCR takes them: corner clipped at 0, size to the far corner.
MTWI ships some GIFs named ``.jpg``: as MMOCR, an image OpenCV cannot decode is converted to RGB
by Pillow and re-saved (here: in memory; the caller writes it back once everything converted),
and an empty one is skipped.
"""
from __future__ import annotations

import io
import math
import os
from typing import Any, Callable

from ocr_ds.datasets.textdet.coco_convert import text_lines
from ocr_ds.datasets.textdet.json_gt import field, load_json, numbers, ratio_split
from ocr_ds.errors import UserError

SUFFIX = {"RCTW": ".txt", "ReCTS": ".json", "MTWI": ".txt"}
DONT_CARE = "###"

# one annotation: (corners, transcription, don't-care)
Region = tuple[list, Any, bool]


def listed_pairs(root: str, dataset: str, ratio: float,
                 converted: dict[str, bytes] | None = None) -> tuple[list, list]:
    """``(training, validation)`` lists of ``(image, annotation file)`` pairs, in
    ``os.listdir`` order; MTWI (``converted`` given): images OpenCV cannot decode are converted
    into ``converted`` (path -> new bytes), empty ones skipped."""
    img_dir, gt_dir = os.path.join(root, "imgs"), os.path.join(root, "annotations")
    if not os.path.isdir(gt_dir):
        raise UserError(f"{gt_dir}: {dataset} annotation folder not found")
    suffix, files = SUFFIX[dataset], []
    for name in os.listdir(gt_dir):
        if not name.endswith(suffix) or not os.path.isfile(os.path.join(gt_dir, name)):
            raise UserError(f"{os.path.join(gt_dir, name)}: not a {suffix} annotation file "
                            f"(every file of ROOT/annotations pairs with an image)")
        img_file = os.path.join(img_dir, name[:-len(suffix)] + ".jpg")
        if converted is not None:
            status = mtwi_probe(img_file)
            if status is None:
                print(f"Skip broken img {img_file}")
                continue
            if status:
                print(f"Convert {img_file} to RGB mode.")
                converted[img_file] = status
        files.append((img_file, os.path.join(gt_dir, name)))
    if not files:
        raise UserError(f"{gt_dir}: no annotation files")
    print(f"Loaded {len(files)} images from {img_dir}")
    train, val = ratio_split(files, ratio)
    print(f"training #{len(train)}, val #{len(val)}")
    return train, val


def mtwi_probe(path: str) -> bytes | None:
    """MMOCR's MTWI check of one image: ``b""`` readable as it is, ``None`` broken (empty: MMOCR
    skips it), else the bytes Pillow writes for it converted to RGB (MMOCR re-saves it so)."""
    import cv2
    import numpy as np

    if not os.path.isfile(path):
        raise UserError(f"{path}: no such image file")
    try:
        if cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR) is not None:
            return b""
    except cv2.error:
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise UserError(f"{path}: not a readable image (neither OpenCV nor Pillow: {exc})"
                        ) from None
    buf = io.BytesIO()
    rgb.save(buf, format=Image.registered_extensions()[os.path.splitext(path)[1].lower()])
    return buf.getvalue()


def read_listed_image(img_file: str, converted: dict[str, bytes]) -> Any:
    """``mmcv.imread(img_file)`` (colour, EXIF orientation applied); an MTWI image converted in
    memory is decoded from its new bytes."""
    import cv2
    import numpy as np

    from ocr_ds.tools.data.textrecog._crops import read_color

    if img_file in converted:
        return cv2.imdecode(np.frombuffer(converted[img_file], np.uint8), cv2.IMREAD_COLOR)
    return read_color(img_file)


def clipped_box(segmentation: list) -> tuple[list, Any]:
    """``([x, y, w, h], w * h)``: MMOCR's box of these sets (corner clipped at 0)."""
    x, y = max(0, min(segmentation[0::2])), max(0, min(segmentation[1::2]))
    w, h = abs(max(segmentation[0::2]) - x), abs(max(segmentation[1::2]) - y)
    return [x, y, w, h], w * h


def _text_file(path: str, dataset: str, n_fields: int, example: str) -> list[tuple[int, list]]:
    """``[(line number, fields), ...]``: blank lines skipped (MMOCR stops at them), the last
    field holding the rest of the line, commas too (MMOCR cuts it at its first comma)."""
    from ocr_ds.fileio import read_text

    out = []
    for n, line in enumerate(text_lines(read_text(path, f"{dataset} annotation file")), 1):
        if not line.strip():
            continue
        parts = line.split(",", n_fields - 1)
        if len(parts) < n_fields:
            raise UserError(f"{path}:{n}: expected {example} (got {line!r})")
        out.append((n, parts))
    return out


def _coords(parts: list[str], convert: Callable[[str], int], where: str) -> list[int]:
    try:
        return [convert(v) for v in parts]
    except (ValueError, OverflowError):
        raise UserError(f"{where}: expected 8 {'integer' if convert is int else 'numeric'} "
                        f"coordinates (got {','.join(parts)!r})") from None


def rctw_regions(path: str) -> list[Region]:
    """``x1,y1,...,x4,y4,difficult,"text"``: integer corners, the text's quotes stripped."""
    out = []
    for n, parts in _text_file(path, "RCTW", 10, 'x1,y1,...,x4,y4,difficult,"text"'):
        word = parts[9].strip('"')
        out.append((_coords(parts[:8], int, f"{path}:{n}"), word,
                    word == DONT_CARE or parts[8] != "0"))
    return out


def mtwi_regions(path: str) -> list[Region]:
    """``x1,y1,...,x4,y4,text``: corners floored to integers."""
    out = []
    for n, parts in _text_file(path, "MTWI", 9, "x1,y1,...,x4,y4,text"):
        out.append((_coords(parts[:8], lambda v: math.floor(float(v)), f"{path}:{n}"),
                    parts[8], parts[8] == DONT_CARE))
    return out


def rects_regions(path: str) -> list[Region]:
    """ReCTS's ``lines``: ``points`` (an even number of numbers), ``ignore`` (0 or 1),
    ``transcription``."""
    annotation = load_json(path, "ReCTS annotation file")
    out = []
    for k, line in enumerate(field(annotation, "lines", path, list)):
        where = f"{path}: lines[{k}]"
        points = numbers(field(line, "points", where, list), where, "points")
        if not points or len(points) % 2:
            raise UserError(f"{where}: 'points' must be x, y pairs (got {points!r})")
        ignore = field(line, "ignore", where, int)
        if ignore not in (0, 1):
            raise UserError(f"{where}: 'ignore' must be 0 or 1 (got {ignore!r})")
        out.append((points, line.get("transcription"), ignore == 1))
    return out


READERS: dict[str, Callable[[str], list[Region]]] = {
    "RCTW": rctw_regions, "ReCTS": rects_regions, "MTWI": mtwi_regions}


def listed_info(job: tuple[str, str, str, dict[str, bytes]]) -> dict[str, Any]:
    """``img_info`` of one ``(image, annotation file, data set, converted)``: file names without
    folders (as MMOCR writes them), size of the image as ``mmcv.imread`` reads it."""
    img_file, gt_file, dataset, converted = job
    regions = READERS[dataset](gt_file)
    img = read_listed_image(img_file, converted)
    anno_info = []
    for segmentation, _, dont_care in regions:
        bbox, area = clipped_box(segmentation)
        anno_info.append(dict(iscrowd=int(dont_care), category_id=1, bbox=bbox, area=area,
                              segmentation=[segmentation]))
    return dict(file_name=os.path.basename(img_file), height=int(img.shape[0]),
                width=int(img.shape[1]), segm_file=os.path.basename(gt_file),
                anno_info=anno_info)

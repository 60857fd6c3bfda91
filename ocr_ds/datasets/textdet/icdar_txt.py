"""Native ICDAR 2015 / 2017 annotations: one ``gt_img_N.txt`` per image, converted to COCO dicts.

A line is ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` (ICDAR 2017 / MLT: ``...,y4,script,
transcription``; the transcription may itself contain commas; files may start with a UTF-8 BOM);
transcription ``###`` marks a don't-care region, which becomes ``iscrowd=1``. Image
``img_N.<ext>`` pairs with ``gt_img_N.txt``. The parser serves both ``icdar_to_coco`` /
``IcdarDataset``'s txt directories (``icdar_dir_to_coco``) and MMOCR's ``icdar_converter``
(``ocr_ds.tools.data.textdet.icdar_converter``).
"""
from __future__ import annotations

import os
import re
from typing import Any

from ocr_ds.datasets.textdet.coco_convert import polygon_geometry, read_image_size, text_lines
from ocr_ds.errors import UserError

IMG_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG")
DONT_CARE = "###"


def _coordinate(text: str) -> int | float:
    """An integer as MMOCR reads it (``int``), else a float (MMOCR stops at a float)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_icdar_txt(path: str, dataset: str = "icdar2015") -> list[tuple[list, str]]:
    """``[(points, transcription), ...]`` of one ICDAR ground-truth file.

    ``icdar2015``: ``x1,y1,...,x4,y4,transcription``; ``icdar2017`` (MLT): ``x1,...,y4,script,
    transcription``. Blank lines are skipped; a UTF-8 BOM is dropped.
    """
    from ocr_ds.fileio import read_text

    n_fields = 9 if dataset == "icdar2017" else 8
    expected = "x1,y1,...,x4,y4," + ("script," if n_fields == 9 else "") + "transcription"
    lines = text_lines(read_text(path, "ICDAR ground-truth file"))
    out = []
    for n, line in enumerate(lines, 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        parts = line.split(",", n_fields)
        if len(parts) < n_fields:
            raise UserError(f"{path}:{n}: expected {expected} (got {line!r})")
        try:
            points = [_coordinate(v) for v in parts[:8]]
        except ValueError:
            raise UserError(f"{path}:{n}: expected 8 numeric coordinates (got {line!r})") from None
        out.append((points, parts[n_fields] if len(parts) > n_fields else ""))
    return out


def is_dont_care(text: str) -> bool:
    """MMOCR's rule: the transcription up to its first comma is ``###``."""
    return text.split(",", 1)[0] == DONT_CARE


def polygon_annotation(points: list[float], text: str, ann_id: int, image_id: int) -> dict:
    """One COCO annotation of a polygon; ``###`` -> ``iscrowd=1``."""
    area, bbox = polygon_geometry(points, f"annotation {ann_id}")
    return dict(id=ann_id, image_id=image_id, category_id=1,
                bbox=[float(v) for v in bbox], area=float(area),
                segmentation=[[float(v) for v in points]],
                iscrowd=int(is_dont_care(text)), text=text)


def _image_index(name: str) -> tuple[int, str]:
    m = re.search(r"(\d+)", name)
    return (int(m.group(1)) if m else -1, name)


def icdar_dir_to_coco(img_dir: str, gt_dir: str, file_prefix: str = "") -> dict[str, Any]:
    """COCO dict of every ``img_N.*`` in ``img_dir`` with its ``gt_img_N.txt`` in ``gt_dir``.

    ``file_name`` is ``file_prefix + <image file name>`` (e.g. ``'training/'``, to use one
    image root for several splits, as MMOCR's converted ICDAR 2015 does).
    """
    for d, what in ((img_dir, "image"), (gt_dir, "annotation")):
        if not os.path.isdir(d):
            raise UserError(f"{what} directory not found: {d}")
    images, annotations = [], []
    names = sorted((n for n in os.listdir(img_dir) if n.endswith(IMG_EXTS)), key=_image_index)
    if not names:
        raise UserError(f"{img_dir}: no images ({', '.join(IMG_EXTS[:5])})")
    for image_id, name in enumerate(names):
        stem = os.path.splitext(name)[0]
        gt_path = os.path.join(gt_dir, f"gt_{stem}.txt")
        if not os.path.isfile(gt_path):
            raise UserError(f"{gt_path}: missing annotation for image {name}")
        height, width = read_image_size(os.path.join(img_dir, name))
        images.append(dict(id=image_id, file_name=file_prefix + name, height=height, width=width))
        for points, text in parse_icdar_txt(gt_path):
            annotations.append(polygon_annotation(points, text, len(annotations), image_id))
    return dict(images=images, annotations=annotations, categories=[dict(id=1, name="text")])

"""Native ICDAR 2015 annotations: one ``gt_img_N.txt`` per image, converted to COCO dicts.

A line is ``x1,y1,x2,y2,x3,y3,x4,y4,transcription`` (the transcription may itself contain
commas; files may start with a UTF-8 BOM); transcription ``###`` marks a don't-care region,
which becomes ``iscrowd=1``. Image ``img_N.<ext>`` pairs with ``gt_img_N.txt``.
"""
from __future__ import annotations

import os
import re
from typing import Any

import cv2
import numpy as np

from ocr_ds.errors import UserError

IMG_EXTS = (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".JPEG", ".PNG")
DONT_CARE = "###"


def parse_icdar_txt(path: str) -> list[tuple[list[float], str]]:
    """``[(points, transcription), ...]`` of one ICDAR 2015 ground-truth file."""
    from ocr_ds.fileio import read_text

    lines = read_text(path, "ICDAR ground-truth file").splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        parts = line.split(",", 8)
        if len(parts) < 8:
            raise UserError(f"{path}:{n}: expected x1,y1,...,x4,y4,transcription "
                            f"(got {line!r})")
        try:
            points = [float(v) for v in parts[:8]]
        except ValueError:
            raise UserError(f"{path}:{n}: expected 8 numeric coordinates (got {line!r})") from None
        out.append((points, parts[8] if len(parts) > 8 else ""))
    return out


def polygon_annotation(points: list[float], text: str, ann_id: int, image_id: int) -> dict:
    """One COCO annotation of a polygon; ``###`` -> ``iscrowd=1``."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    area = abs(float(cv2.contourArea(pts.astype(np.float32).reshape(-1, 1, 2))))
    return dict(id=ann_id, image_id=image_id, category_id=1,
                bbox=[float(x0), float(y0), float(x1 - x0), float(y1 - y0)], area=area,
                segmentation=[[float(v) for v in pts.reshape(-1)]],
                iscrowd=int(text.strip() == DONT_CARE), text=text)


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
        img = cv2.imread(os.path.join(img_dir, name), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise UserError(f"{os.path.join(img_dir, name)}: not a readable image")
        images.append(dict(id=image_id, file_name=file_prefix + name,
                           height=int(img.shape[0]), width=int(img.shape[1])))
        for points, text in parse_icdar_txt(gt_path):
            annotations.append(polygon_annotation(points, text, len(annotations), image_id))
    return dict(images=images, annotations=annotations, categories=[dict(id=1, name="text")])

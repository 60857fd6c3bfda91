"""HierText annotations, as MMOCR 0.6.3's HierText converters read them.

``ROOT/annotations/{train,val}.jsonl`` (one JSON object, despite the suffix): ``{"annotations":
[{"image_id", "image_width", "image_height", "paragraphs": [{"vertices": [[x, y], ...],
"legible", "lines": [{"vertices", "text", "legible", "words": [{"vertices", "text",
"legible"}, ...]}, ...]}, ...]}, ...]}``; images are ``ROOT/imgs/<split>/<image_id>.jpg``.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ocr_ds.datasets.textdet.coco_convert import annotation
from ocr_ds.datasets.textdet.json_gt import field, load_json, numbers
from ocr_ds.errors import UserError

SPLITS = {"train": "instances_training.json", "val": "instances_val.json"}


def hiertext_images(root: str, split: str) -> tuple[str, list[dict]]:
    """``(annotation path as MMOCR joins it, [image annotation, ...])`` of one split."""
    import os

    path = os.path.join(root, "annotations/" + split + ".jsonl")
    images = field(load_json(path, "HierText annotation file"), "annotations", path, list)
    for i, img in enumerate(images):
        where = f"{path}: annotations[{i}]"
        field(img, "image_id", where, str)
        for p, paragraph in enumerate(field(img, "paragraphs", where, list)):
            for k, line in enumerate(field(paragraph, "lines", f"{where}.paragraphs[{p}]", list)):
                field(line, "words", f"{where}.paragraphs[{p}].lines[{k}]", list)
    return path, images


def regions(img: dict, level: str, where: str) -> Iterator[tuple[tuple[int, ...], dict, str]]:
    """``(indices, region, where)`` of every paragraph, line or word of one image, in order;
    ``indices``: (paragraph,), (paragraph, line) or (paragraph, line, word)."""
    for p, paragraph in enumerate(img["paragraphs"]):
        at = f"{where}.paragraphs[{p}]"
        if level == "paragraph":
            yield (p,), paragraph, at
            continue
        for k, line in enumerate(paragraph["lines"]):
            if level == "line":
                yield (p, k), line, f"{at}.lines[{k}]"
                continue
            for w, word in enumerate(line["words"]):
                yield (p, k, w), word, f"{at}.lines[{k}].words[{w}]"


def vertices(region: Any, where: str) -> list:
    """A region's ``vertices`` as a flat list (3 or more ``[x, y]`` points)."""
    points = field(region, "vertices", where, list)
    flat = [v for point in points for v in numbers(point, where, "vertices", 2)]
    if len(flat) < 6:
        raise UserError(f"{where}: 'vertices' must hold 3 or more [x, y] points (got {points!r})")
    return flat


def hiertext_infos(root: str, split: str, level: str) -> list[dict]:
    """The ``img_info`` of every image of a split (size from the annotation, no image read);
    each region: its polygon's shapely area and bounds, ``iscrowd`` 1 when not ``legible``."""
    path, images = hiertext_images(root, split)
    infos = []
    for i, img in enumerate(images):
        where = f"{path}: annotations[{i}]"
        anno_info = []
        for _, region, at in regions(img, level, where):
            # as MMOCR: the flat values of np.array(vertices) (all floats if one is)
            xy = np.asarray(vertices(region, at)).tolist()
            legible = field(region, "legible", at, bool)
            anno_info.append(annotation(xy, 0 if legible else 1, at))
        infos.append(dict(file_name=img["image_id"] + ".jpg",
                          height=field(img, "image_height", where),
                          width=field(img, "image_width", where), segm_file=path,
                          anno_info=anno_info))
    return infos

"""``OCRSegDataset``: word crops with character boxes, for SegOCR (MMOCR 0.6.3's
``datasets/ocr_seg_dataset.py``).

One JSON line per crop, read with ``LineJsonParser(keys=['file_name', 'annotations',
'text'])``::

    {"file_name": "1.png", "text": "ab",
     "annotations": [{"char_text": "a", "char_box": [x1, y1, x2, y2]},
                     {"char_text": "b", "char_box": [x1, y1, x2, y2, x3, y3, x4, y4]}]}

A 4-number ``char_box`` is ``xyxy`` unless ``"char_box_type": "xywh"``; an 8-number one a
quadrangle. The pipeline gets ``ann_info = {'chars', 'char_rects' (xyxy), 'char_quads'
(8 numbers)}``; evaluation compares predictions with ``text``, as ``OCRDataset``.

A malformed annotation (no character, a box of another length, an unknown
``char_box_type``) makes the sample invalid: skipped and counted in training (MMOCR's dataset
skips the sample its assertion fails on), a blank placeholder in test mode (the bad-data rules
of :class:`~ocr_ds.datasets.textrecog.ocr_dataset.OCRDataset`).
"""
from __future__ import annotations

import copy
from typing import Any

from ocr_ds.datasets.invalid import MALFORMED_ANNOTATION, InvalidSample
from ocr_ds.datasets.textrecog.ocr_dataset import OCRDataset


def parse_anno_info(annotations: Any) -> dict[str, list]:
    """``annotations`` (one dict per character) -> ``chars``, ``char_rects``, ``char_quads``;
    ValueError for a malformed one. The boxes are copies (the pipeline moves them in place)."""
    if (not isinstance(annotations, (list, tuple)) or not annotations
            or not all(isinstance(a, dict) for a in annotations)):
        raise ValueError("'annotations' must be a non-empty list of dicts")
    chars, rects, quads = [], [], []
    for i, ann in enumerate(annotations):
        if "char_box" not in ann or "char_text" not in ann:
            raise ValueError(f"annotation {i} needs 'char_box' and 'char_text'")
        box = ann["char_box"]
        if not isinstance(box, (list, tuple)) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in box):
            raise ValueError(f"annotation {i}: char_box must be a list of numbers (got {box!r})")
        box = list(box)
        if len(box) == 4:
            box_type = ann.get("char_box_type", "xyxy")
            if box_type == "xywh":
                x1, y1, w, h = box
                box = [x1, y1, x1 + w, y1 + h]
            elif box_type != "xyxy":
                raise ValueError(f"annotation {i}: invalid char_box_type {box_type!r}")
            x1, y1, x2, y2 = box
            rects.append(box)
            quads.append([x1, y1, x2, y1, x2, y2, x1, y2])
        elif len(box) == 8:
            xs, ys = box[0::2], box[1::2]
            rects.append([min(xs), min(ys), max(xs), max(ys)])
            quads.append(box)
        else:
            raise ValueError(f"annotation {i}: char_box has {len(box)} numbers, expected 4 or 8")
        chars.append(ann["char_text"])
    return dict(chars=chars, char_rects=rects, char_quads=quads)


class OCRSegDataset(OCRDataset):
    """``OCRDataset`` whose samples carry character boxes (``ann_info``); same arguments."""

    def _results(self, index: int) -> dict[str, Any]:
        info = self._info(index)
        if "file_name" not in info:
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(index),
                                "no 'file_name' (LineJsonParser keys need 'file_name', "
                                "'annotations', 'text')")
        try:
            ann_info = parse_anno_info(copy.deepcopy(info.get("annotations")))
        except ValueError as exc:
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(index),
                                str(exc)) from None
        return dict(img_info=dict(filename=info["file_name"]), ann_info=ann_info,
                    img_prefix=self.img_prefix)

    def _blank_results(self, info: dict[str, Any]) -> dict[str, Any]:
        name = info.get("file_name", info.get("filename", ""))
        return dict(img_info=dict(filename=name), img_prefix=self.img_prefix,
                    ann_info=dict(chars=[], char_rects=[], char_quads=[]))


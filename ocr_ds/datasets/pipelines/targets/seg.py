"""``OCRSegTargets``: SegOCR's training maps from character boxes (MMOCR 0.6.3's
``pipelines/ocr_seg_targets.py``).

``gt_kernels`` is an int32 ``(3, H, W)`` stack at the padded size (``pad_shape``):

0. the attention kernels: 1 inside every box shrunk by ``attn_shrink_ratio``;
1. the class map: each box shrunk by ``seg_shrink_ratio`` filled with its character's class
   (``label_convertor``'s, ``<BG>`` = 0), later boxes over earlier ones;
2. the mask: 1, 0 right of the resized image;

maps 0 and 1 hold ``pad_val`` (255, ``SegLoss``'s ignore index) right of the resized image.
Boxes are first scaled by ``resize_shape / img_shape``, which is 1 after MMOCR's
``ResizeOCR`` (it sets both to the resized shape): as in MMOCR, boxes are used in the
coordinates the steps before the resize left them in.

Shrinking moves each corner towards its two neighbours by ``ratio * (shorter adjacent side)``
along each side (quadrangles), or scales a rectangle about its centre (rectangles), rounding
to pixels as MMOCR (Python's ``round``). The map registers in ``seg_fields``, so later
geometric steps (``RandomRotateTextDet``) move it, nearest-neighbour, 0 outside.

A character the convertor cannot map (outside the dictionary without ``<UKN>``, or an empty
string) makes the sample invalid (skipped, counted), as MMOCR's dataset skips the sample its
convertor raises on.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.invalid import OUT_OF_CHARSET, InvalidSample
from ocr_ds.datasets.pipelines.recog_charbox import _box_type
from ocr_ds.errors import UserError
from ocr_ds.registry import COMPONENTS, build


def _ratio(value: Any, key: str) -> float:
    if not isinstance(value, float) or not 0.0 < value < 1.0:
        raise UserError(f"OCRSegTargets.{key}: expected a float in (0, 1) (got {value!r})")
    return value


class OCRSegTargets:
    """Args:
        label_convertor: The convertor config (``SegConvertor``) giving character classes.
        attn_shrink_ratio: Shrink ratio of the attention kernels. Defaults to 0.5.
        seg_shrink_ratio: Shrink ratio of the class map's boxes. Defaults to 0.25.
        box_type: ``'char_rects'`` or ``'char_quads'``. Defaults to ``'char_rects'``.
        pad_val: Value right of the resized image in maps 0 and 1. Defaults to 255.
    """

    def __init__(self, label_convertor: Mapping[str, Any] | None = None,
                 attn_shrink_ratio: float = 0.5, seg_shrink_ratio: float = 0.25,
                 box_type: str = "char_rects", pad_val: int = 255):
        self.attn_shrink_ratio = _ratio(attn_shrink_ratio, "attn_shrink_ratio")
        self.seg_shrink_ratio = _ratio(seg_shrink_ratio, "seg_shrink_ratio")
        if label_convertor is None:
            raise UserError("OCRSegTargets.label_convertor: expected a convertor config, e.g. "
                            "dict(type='SegConvertor', dict_type='DICT36') (got None)")
        self.label_convertor = build(COMPONENTS, label_convertor, "OCRSegTargets.label_convertor")
        self.box_type = _box_type(box_type, "OCRSegTargets")
        self.pad_val = pad_val

    @staticmethod
    def shrink_char_quad(quad: Sequence[float], ratio: float) -> np.ndarray:
        points = [quad[0:2], quad[2:4], quad[4:6], quad[6:8]]
        out = []
        for i, (x, y) in enumerate(points):
            p1, p2 = points[(i + 3) % 4], points[(i + 1) % 4]
            d1 = ((p1[0] - x) ** 2 + (p1[1] - y) ** 2) ** 0.5
            d2 = ((p2[0] - x) ** 2 + (p2[1] - y) ** 2) ** 0.5
            shortest = min(d1, d2)
            f1 = ratio * shortest / d1 if shortest != 0 else 0.0
            f2 = ratio * shortest / d2 if shortest != 0 else 0.0
            out.append([round(x + (p1[0] - x) * f1 + (p2[0] - x) * f2),
                        round(y + (p1[1] - y) * f1 + (p2[1] - y) * f2)])
        return np.array(out)

    @staticmethod
    def shrink_char_rect(rect: Sequence[float], ratio: float) -> np.ndarray:
        x1, y1, x2, y2 = rect
        w, h = x2 - x1, y2 - y1
        l, t = round((x1 + x2 - w * ratio) / 2), round((y1 + y2 - h * ratio) / 2)
        r, b = round((x1 + x2 + w * ratio) / 2), round((y1 + y2 + h * ratio) / 2)
        return np.array([[l, t], [r, t], [r, b], [l, b]])

    def generate_kernels(self, resize_shape: tuple, pad_shape: tuple,
                         char_boxes: Sequence[Sequence[float]], char_inds: Sequence[int],
                         shrink_ratio: float = 0.5, binary: bool = True) -> np.ndarray:
        """One ``pad_shape`` int32 map: the shrunk boxes filled with 1 or their class."""
        kernel = np.zeros(pad_shape, dtype=np.int32)
        kernel[:resize_shape[0], resize_shape[1]:] = self.pad_val
        shrink = (self.shrink_char_rect if self.box_type == "char_rects"
                  else self.shrink_char_quad)
        for box, ind in zip(char_boxes, char_inds):
            cv2.fillConvexPoly(kernel, shrink(box, shrink_ratio).astype(np.int32),
                               1 if binary else ind)
        return kernel

    def _class_of(self, char: Any, where: str) -> int:
        conv = self.label_convertor
        text = char.lower() if conv.lower and isinstance(char, str) else char
        if not isinstance(text, str) or not text:
            raise InvalidSample(OUT_OF_CHARSET, where, f"character {char!r}")
        inds = [conv.char2idx.get(c, conv.unknown_idx) for c in text]
        if any(i is None for i in inds):
            raise InvalidSample(OUT_OF_CHARSET, where, f"{char!r} is not in the dictionary")
        return inds[0]

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img_shape, resize_shape = results["img_shape"], results["resize_shape"]
        h_scale = 1.0 * resize_shape[0] / img_shape[0]
        w_scale = 1.0 * resize_shape[1] / img_shape[1]
        ann = results["ann_info"]
        where = str(results.get("filename", ""))
        char_boxes, char_inds = [], []
        for box, char in zip(ann[self.box_type], ann["chars"]):
            for j in range(0, len(box) - 1, 2):  # in place, as MMOCR
                box[j] = round(box[j] * w_scale)
                box[j + 1] = round(box[j + 1] * h_scale)
            char_boxes.append(box)
            char_inds.append(self._class_of(char, where))
        resize_shape = tuple(resize_shape[:2])
        pad_shape = tuple(results["pad_shape"][:2])
        attn = self.generate_kernels(resize_shape, pad_shape, char_boxes, char_inds,
                                     self.attn_shrink_ratio, binary=True)
        seg = self.generate_kernels(resize_shape, pad_shape, char_boxes, char_inds,
                                    self.seg_shrink_ratio, binary=False)
        mask = np.ones(pad_shape, dtype=np.int32)
        mask[:resize_shape[0], resize_shape[1]:] = 0
        results["gt_kernels"] = np.stack([attn, seg, mask])
        results["mask_fields"] = []
        seg_fields = results.setdefault("seg_fields", [])
        if "gt_kernels" not in seg_fields:
            seg_fields.append("gt_kernels")
        return results

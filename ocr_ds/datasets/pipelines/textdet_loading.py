"""``LoadTextAnnotations``: the detection annotations of ``results['ann_info']`` into the
pipeline's fields (mmdet's ``LoadAnnotations`` as MMOCR configures it).

Polygons stay polygons (flat float arrays), whatever ``poly2mask`` says: every later step of
ocr_ds works on polygons and the targets steps rasterise them at the end. ``LoadAnnotations``
(mmdet's name, Mask R-CNN's pipeline) is the exception: its masks are instance bitmaps.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def _polygons(masks: Any) -> list[np.ndarray]:
    """``[[x1, y1, ...]]`` per instance (COCO ``segmentation``) -> one flat array each.

    An instance with several parts keeps its first, as MMOCR's detectors do; polygons of fewer
    than 3 points are dropped."""
    out = []
    for mask in masks or []:
        poly = mask[0] if mask and isinstance(mask[0], (list, tuple, np.ndarray)) else mask
        arr = np.asarray(poly, dtype=np.float32).reshape(-1)
        if arr.size >= 6 and arr.size % 2 == 0:
            out.append(arr)
    return out


class LoadTextAnnotations:
    """Load boxes, labels and polygons (and their ignored ``###`` counterparts).

    Sets ``gt_bboxes``/``gt_bboxes_ignore`` (``(N, 4)`` x1,y1,x2,y2), ``gt_labels`` and
    ``gt_masks``/``gt_masks_ignore`` (lists of flat polygon arrays), registered in
    ``bbox_fields``/``mask_fields``.

    Args:
        with_bbox, with_label, with_mask: What to load. Defaults True, True, False.
        poly2mask: Accepted for MMOCR configs; polygons are always kept as polygons.
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True, with_mask: bool = False,
                 with_seg: bool = False, poly2mask: bool = True, use_img_shape: bool = False,
                 **kwargs: Any):
        self.with_bbox = with_bbox
        self.with_label = with_label
        self.with_mask = with_mask

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        ann = results["ann_info"]
        if self.with_bbox:
            results["gt_bboxes"] = np.asarray(ann.get("bboxes", []), np.float32).reshape(-1, 4)
            results["gt_bboxes_ignore"] = np.asarray(ann.get("bboxes_ignore", []),
                                                     np.float32).reshape(-1, 4)
            fields = results.setdefault("bbox_fields", [])
            fields += [k for k in ("gt_bboxes", "gt_bboxes_ignore") if k not in fields]
        if self.with_label:
            results["gt_labels"] = np.asarray(ann.get("labels", []), np.int64)
        if self.with_mask:
            results["gt_masks"] = _polygons(ann.get("masks"))
            results["gt_masks_ignore"] = _polygons(ann.get("masks_ignore"))
            fields = results.setdefault("mask_fields", [])
            fields += [k for k in ("gt_masks", "gt_masks_ignore") if k not in fields]
        return results


class LoadAnnotations(LoadTextAnnotations):
    """mmdet's own ``LoadAnnotations``, as MMOCR's Mask R-CNN pipeline names it.

    With ``with_mask`` and ``poly2mask`` (the default) each instance's polygons are rasterised
    by pycocotools, as mmdet does, into ``gt_masks``: a ``(N, H, W)`` uint8 stack of the
    image's size (``img_info`` height/width), kept in ``seg_fields`` so that every geometric
    step resizes (nearest), flips, crops and pads it with the image; ``gt_masks_ignore`` is not
    loaded (mmdet's loader does not). With ``poly2mask=False`` it is ``LoadTextAnnotations``.
    """

    def __init__(self, with_bbox: bool = True, with_label: bool = True, with_mask: bool = False,
                 with_seg: bool = False, poly2mask: bool = True, **kwargs: Any):
        super().__init__(with_bbox=with_bbox, with_label=with_label,
                         with_mask=with_mask and not poly2mask, **kwargs)
        self.bitmaps = with_mask and poly2mask

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        results = super().__call__(results)
        if self.bitmaps:
            from pycocotools import mask as mask_utils
            h, w = int(results["img_info"]["height"]), int(results["img_info"]["width"])
            stack = np.zeros((0, h, w), np.uint8)
            masks = []
            for ann in results["ann_info"].get("masks") or []:
                polys = [list(map(float, p)) for p in ann] if ann and isinstance(
                    ann[0], (list, tuple, np.ndarray)) else [list(map(float, ann))]
                rle = mask_utils.merge(mask_utils.frPyObjects(polys, h, w))
                masks.append(mask_utils.decode(rle))
            results["gt_masks"] = np.stack(masks) if masks else stack
            fields = results.setdefault("seg_fields", [])
            if "gt_masks" not in fields:
                fields.append("gt_masks")
        return results

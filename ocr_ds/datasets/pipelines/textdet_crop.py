"""Random crops for detection training that keep text whole: ``EastRandomCrop`` (DBNet) and
``RandomCropInstances`` (PSENet/PANet), as MMOCR 0.x does them."""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.pipelines.textdet_geometry import map_points, set_img_shape
from ocr_ds.errors import UserError


def _outside(poly: np.ndarray, x: float, y: float, w: float, h: float) -> bool:
    poly = np.asarray(poly).reshape(-1, 2)
    return bool(poly[:, 0].max() < x or poly[:, 0].min() > x + w
                or poly[:, 1].max() < y or poly[:, 1].min() > y + h)


def _split_regions(axis: np.ndarray) -> list[np.ndarray]:
    """Runs of consecutive values (MMOCR drops the last run; so do we, to crop alike)."""
    regions, start = [], 0
    for i in range(1, len(axis)):
        if axis[i] != axis[i - 1] + 1:
            regions.append(axis[start:i])
            start = i
    return regions


class EastRandomCrop:
    """Crop a random region whose borders avoid cutting text, then scale it to fit
    ``target_size`` (aspect kept) on a zero canvas of exactly that size.

    Crop borders are drawn from the rows/columns no text box covers; a crop must be at least
    ``min_crop_side_ratio`` of the image on each side and contain some text, else after
    ``max_tries`` the whole image is used. Polygons entirely outside the crop are dropped.

    Args:
        target_size: Output ``(w, h)``. Defaults to (640, 640).
        max_tries: Crop attempts. Defaults to 10.
        min_crop_side_ratio: Smallest crop side / image side. Defaults to 0.1.
    """

    def __init__(self, target_size: Sequence[int] = (640, 640), max_tries: int = 10,
                 min_crop_side_ratio: float = 0.1):
        if not (isinstance(target_size, (list, tuple)) and len(target_size) == 2):
            raise UserError(f"EastRandomCrop.target_size: expected (w, h) (got {target_size!r})")
        self.target_size = (int(target_size[0]), int(target_size[1]))
        self.max_tries = max_tries
        self.min_crop_side_ratio = min_crop_side_ratio

    @staticmethod
    def _random_select(axis: np.ndarray, max_size: int) -> tuple[int, int]:
        xx = np.random.choice(axis, size=2)
        return int(np.clip(xx.min(), 0, max_size - 1)), int(np.clip(xx.max(), 0, max_size - 1))

    @staticmethod
    def _region_wise_select(regions: list[np.ndarray]) -> tuple[int, int]:
        values = [int(np.random.choice(regions[i])) for i in np.random.choice(len(regions), 2)]
        return min(values), max(values)

    def crop_area(self, h: int, w: int, polys: list[np.ndarray]) -> tuple[int, int, int, int]:
        h_array = np.zeros(h, dtype=np.int32)
        w_array = np.zeros(w, dtype=np.int32)
        for poly in polys:
            pts = np.round(np.asarray(poly).reshape(-1, 2)).astype(np.int32)
            w_array[max(pts[:, 0].min(), 0):max(pts[:, 0].max(), 0)] = 1
            h_array[max(pts[:, 1].min(), 0):max(pts[:, 1].max(), 0)] = 1
        h_axis = np.flatnonzero(h_array == 0)
        w_axis = np.flatnonzero(w_array == 0)
        if len(h_axis) == 0 or len(w_axis) == 0:
            return 0, 0, w, h
        h_regions = _split_regions(h_axis)
        w_regions = _split_regions(w_axis)
        for _ in range(self.max_tries):
            xmin, xmax = (self._region_wise_select(w_regions) if len(w_regions) > 1
                          else self._random_select(w_axis, w))
            ymin, ymax = (self._region_wise_select(h_regions) if len(h_regions) > 1
                          else self._random_select(h_axis, h))
            if xmax - xmin < self.min_crop_side_ratio * w or \
                    ymax - ymin < self.min_crop_side_ratio * h:
                continue
            if any(not _outside(p, xmin, ymin, xmax - xmin, ymax - ymin) for p in polys):
                return xmin, ymin, xmax - xmin, ymax - ymin
        return 0, 0, w, h

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        h, w = img.shape[:2]
        cx, cy, cw, ch = self.crop_area(h, w, list(results.get("gt_masks", [])))
        tw, th = self.target_size
        scale = min(tw / cw, th / ch)
        nw, nh = int(cw * scale), int(ch * scale)
        canvas = np.zeros((th, tw) + img.shape[2:], img.dtype)
        crop = cv2.resize(np.ascontiguousarray(img[cy:cy + ch, cx:cx + cw]), (nw, nh))
        canvas[:nh, :nw] = crop.reshape(canvas[:nh, :nw].shape)
        results["img"] = canvas
        map_points(results, lambda p: (p - (cx, cy)) * scale)
        for key in results.get("mask_fields", []):
            results[key] = [p for p in results[key] if not _outside(p, 0, 0, nw, nh)]
        for key in results.get("seg_fields", []):
            arr = results[key]
            stack = arr if arr.ndim == 3 else arr[None]
            out = np.zeros((stack.shape[0], th, tw), arr.dtype)
            for i, m in enumerate(stack):
                out[i, :nh, :nw] = cv2.resize(np.ascontiguousarray(m[cy:cy + ch, cx:cx + cw]),
                                              (nw, nh), interpolation=cv2.INTER_NEAREST)
            results[key] = out if arr.ndim == 3 else out[0]
        set_img_shape(results)
        return results


class RandomCropInstances:
    """Crop ``target_size`` (``(h, w)``, shrunk to the image when larger) from the image and
    its maps; with probability ``positive_sample_ratio`` the crop is placed to contain text of
    ``results[instance_key]`` (its first map with ``mask_type='inx0'``).

    Args:
        target_size: Crop ``(h, w)``.
        instance_key: The map whose text the crop should contain, e.g. ``'gt_kernels'``.
        mask_type: 'inx0' (the first of a ``(K, H, W)`` stack) or 'union_all' (any).
        positive_sample_ratio: Probability of a text-containing crop. Defaults to 5/8.
    """

    def __init__(self, target_size: Sequence[int], instance_key: str,
                 mask_type: str = "inx0", positive_sample_ratio: float = 5.0 / 8.0):
        if mask_type not in ("inx0", "union_all"):
            raise UserError(f"RandomCropInstances.mask_type: expected 'inx0' or 'union_all' "
                            f"(got {mask_type!r})")
        self.target_size = (int(target_size[0]), int(target_size[1]))
        self.instance_key = instance_key
        self.mask_type = mask_type
        self.positive_sample_ratio = positive_sample_ratio

    def sample_offset(self, gt: np.ndarray | None, h: int, w: int) -> tuple[int, int]:
        t_h, t_w = min(self.target_size[0], h), min(self.target_size[1], w)
        if gt is not None and np.random.random_sample() < self.positive_sample_ratio \
                and gt.max() > 0:
            ys, xs = np.nonzero(gt)
            tl = np.maximum(np.array([ys.min(), xs.min()]) - (t_h, t_w), 0)
            br = np.maximum(np.array([ys.max(), xs.max()]) - (t_h, t_w), 0)
            br[0] = min(br[0], h - t_h)
            br[1] = min(br[1], w - t_w)
            y = np.random.randint(tl[0], br[0]) if tl[0] < br[0] else 0
            x = np.random.randint(tl[1], br[1]) if tl[1] < br[1] else 0
            return int(y), int(x)
        y = np.random.randint(0, h - t_h) if h - t_h > 0 else 0
        x = np.random.randint(0, w - t_w) if w - t_w > 0 else 0
        return int(y), int(x)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img"].shape[:2]
        gt = results.get(self.instance_key)
        if gt is not None and gt.ndim == 3:
            gt = None if len(gt) == 0 else gt[0] if self.mask_type == "inx0" else gt.max(axis=0)
        y, x = self.sample_offset(gt, h, w)
        t_h, t_w = min(self.target_size[0], h), min(self.target_size[1], w)
        for key in results.get("img_fields", ["img"]):
            results[key] = np.ascontiguousarray(results[key][y:y + t_h, x:x + t_w])
        for key in results.get("seg_fields", []):
            results[key] = np.ascontiguousarray(results[key][..., y:y + t_h, x:x + t_w])
        boxes = results.get("bbox_fields", [])
        if isinstance(results.get("gt_masks"), np.ndarray):
            # Mask R-CNN's instance bitmaps (LoadAnnotations): boxes are cut to the crop and
            # the instances whose box falls outside it dropped, with their labels and masks
            crop_instances(results, x, y, x + t_w, y + t_h)
            results["bbox_fields"] = []
        map_points(results, lambda p: p - (x, y))
        results["bbox_fields"] = boxes
        set_img_shape(results)
        return results


def crop_instances(results: dict[str, Any], x1: int, y1: int, x2: int, y2: int) -> None:
    """MMOCR's ``RandomCropInstances.crop_bboxes`` for every box field: each box cut to the
    crop ``[x1, y1, x2, y2]`` in crop coordinates, kept only if the cut has an area; the
    instances of ``gt_bboxes`` that go also leave ``gt_labels`` and ``gt_masks``."""
    for key in results.get("bbox_fields", []):
        b = np.asarray(results[key], np.float64).reshape(-1, 4)
        cut = np.stack([np.maximum(b[:, 0], x1), np.maximum(b[:, 1], y1),
                        np.minimum(b[:, 2], x2), np.minimum(b[:, 3], y2)], 1)
        keep = np.nonzero((cut[:, 2] > cut[:, 0]) & (cut[:, 3] > cut[:, 1]))[0]
        results[key] = (cut[keep] - (x1, y1, x1, y1)).astype(np.float32).reshape(-1, 4)
        if key == "gt_bboxes":
            if "gt_labels" in results:
                results["gt_labels"] = np.asarray(results["gt_labels"])[keep]
            results["gt_masks"] = results["gt_masks"][keep]

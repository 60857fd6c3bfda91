"""The polygon-instance crops of MMOCR 0.6.3's FCENet / TextSnake (CTW1500) pipelines:
``RandomCropFlip`` and ``RandomCropPolyInstances``, drawing from ``numpy.random`` in MMOCR's
order (see :mod:`.textdet_poly_aug` for the conventions).

MMOCR's quirks are kept, on purpose, because its trained numbers come from them:
``RandomCropFlip`` uses its last attempt even when all ten failed, and
``RandomCropPolyInstances`` crops the polygons but not the boxes.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_poly_aug import _maps, _masks_keys, _polys, _set_img
from ocr_ds.errors import bad_value


class RandomCropPolyInstances:
    """With probability ``crop_ratio``, crop a random box that cuts no polygon and keeps one
    chosen instance whole; polygons left (almost) outside are dropped, the rest clipped.

    Args:
        instance_key: The polygon field an instance is chosen from. Defaults to 'gt_masks'.
        crop_ratio: Probability of cropping. Defaults to 5/8.
        min_side_ratio: Shortest crop side, relative to the image side. Defaults to 0.4.
    """

    def __init__(self, instance_key: str = "gt_masks", crop_ratio: float = 5.0 / 8.0,
                 min_side_ratio: float = 0.4):
        if not 0 <= min_side_ratio < 1:
            raise bad_value("RandomCropPolyInstances.min_side_ratio", min_side_ratio,
                            "a value in [0, 1)")
        self.instance_key = instance_key
        self.crop_ratio = crop_ratio
        self.min_side_ratio = min_side_ratio

    @staticmethod
    def sample_valid_start_end(valid: np.ndarray, min_len: int, max_start: int,
                               min_end: int) -> tuple[int, int]:
        """A start in a free run before ``max_start``, then an end in a free run at least
        ``min_len`` later and after ``min_end`` (MMOCR's draws: run, then position, twice)."""
        start_array = valid.copy()
        max_start = min(len(start_array) - min_len, max_start)
        start_array[max_start:] = 0
        start_array[0] = 1
        diff = np.hstack([0, start_array]) - np.hstack([start_array, 0])
        starts, ends = np.where(diff < 0)[0], np.where(diff > 0)[0]
        region = np.random.randint(0, len(starts))
        start = np.random.randint(starts[region], ends[region])

        end_array = valid.copy()
        min_end = max(start + min_len, min_end)
        end_array[:min_end] = 0
        end_array[-1] = 1
        diff = np.hstack([0, end_array]) - np.hstack([end_array, 0])
        starts, ends = np.where(diff < 0)[0], np.where(diff > 0)[0]
        region = np.random.randint(0, len(starts))
        end = np.random.randint(starts[region], ends[region])
        return start, end

    def sample_crop_box(self, img_size: tuple, results: dict[str, Any]) -> np.ndarray:
        h, w = img_size[:2]
        key_masks = _polys(results, self.instance_key)
        x_valid = np.ones(w, dtype=np.int32)
        y_valid = np.ones(h, dtype=np.int32)
        selected = key_masks[np.random.randint(0, len(key_masks))]
        selected = selected.reshape((-1, 2)).astype(np.int32)
        max_x_start = max(np.min(selected[:, 0]) - 2, 0)
        min_x_end = min(np.max(selected[:, 0]) + 3, w - 1)
        max_y_start = max(np.min(selected[:, 1]) - 2, 0)
        min_y_end = min(np.max(selected[:, 1]) + 3, h - 1)
        for key in _masks_keys(results):
            for mask in results[key]:
                mask = mask.reshape((-1, 2)).astype(np.int32)
                clip_x = np.clip(mask[:, 0], 0, w - 1)
                clip_y = np.clip(mask[:, 1], 0, h - 1)
                # the slices wrap for starts < 2, as MMOCR's do
                x_valid[np.min(clip_x) - 2:np.max(clip_x) + 3] = 0
                y_valid[np.min(clip_y) - 2:np.max(clip_y) + 3] = 0
        min_w = int(w * self.min_side_ratio)
        min_h = int(h * self.min_side_ratio)
        x1, x2 = self.sample_valid_start_end(x_valid, min_w, max_x_start, min_x_end)
        y1, y2 = self.sample_valid_start_end(y_valid, min_h, max_y_start, min_y_end)
        return np.array([x1, y1, x2, y2])

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if len(_polys(results, self.instance_key)) < 1:
            return results
        if np.random.random_sample() < self.crop_ratio:
            box = self.sample_crop_box(results["img"].shape, results)
            results["crop_region"] = box
            x1, y1, x2, y2 = (int(v) for v in box)
            _set_img(results, results["img"][y1:y2, x1:x2])
            _maps(results, lambda a: a[y1:y2, x1:x2])
            w, h = max(x2 - x1, 1), max(y2 - y1, 1)
            labels = results.get("gt_labels")
            valid_labels = []
            for key in _masks_keys(results):
                kept = []
                for ind, poly in enumerate(results[key]):
                    poly = np.array(poly, copy=True)
                    poly[0::2] = poly[0::2] - x1
                    poly[1::2] = poly[1::2] - y1
                    pts = poly.reshape((-1, 2))
                    if ((pts[:, 0] > -4).all() and (pts[:, 0] < w + 4).all()
                            and (pts[:, 1] > -4).all() and (pts[:, 1] < h + 4).all()):
                        poly[0::2] = np.clip(poly[0::2], 0, w)
                        poly[1::2] = np.clip(poly[1::2], 0, h)
                        if key == self.instance_key and labels is not None:
                            valid_labels.append(labels[ind])
                        kept.append(poly)
                results[key] = kept
            if labels is not None:
                results["gt_labels"] = np.array(valid_labels)
        return results


class RandomCropFlip:
    """With probability ``crop_ratio`` (``iter_num`` times), flip a random patch of the image
    in place -- horizontally, vertically or both -- where the patch cuts no polygon (ten
    tries); polygons inside it are flipped with it.

    Args:
        pad_ratio: Margin, relative to the image side, the patch corners may start in.
            Defaults to 0.1.
        crop_ratio: Probability of flipping a patch. Defaults to 0.5.
        iter_num: Times the step is repeated. Defaults to 1.
        min_area_ratio: Smallest patch area, relative to the image. Defaults to 0.2.
    """

    def __init__(self, pad_ratio: float = 0.1, crop_ratio: float = 0.5, iter_num: int = 1,
                 min_area_ratio: float = 0.2):
        if not isinstance(iter_num, int) or iter_num < 0:
            raise bad_value("RandomCropFlip.iter_num", iter_num, "an integer >= 0")
        self.pad_ratio = pad_ratio
        self.epsilon = 1e-2
        self.crop_ratio = crop_ratio
        self.iter_num = iter_num
        self.min_area_ratio = min_area_ratio

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for _ in range(self.iter_num):
            results = self.random_crop_flip(results)
        return results

    @staticmethod
    def generate_crop_target(image: np.ndarray, all_polys: list[np.ndarray], pad_h: int,
                             pad_w: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns (in padded coordinates) no polygon's min-area box covers."""
        h, w = image.shape[:2]
        h_array = np.zeros((h + pad_h * 2), dtype=np.int32)
        w_array = np.zeros((w + pad_w * 2), dtype=np.int32)
        for polygon in all_polys:
            rect = cv2.minAreaRect(polygon.astype(np.int32).reshape(-1, 2))
            box = cv2.boxPoints(rect).astype(np.intp).astype(np.int32)
            w_array[np.min(box[:, 0]) + pad_w:np.max(box[:, 0]) + pad_w] = 1
            h_array[np.min(box[:, 1]) + pad_h:np.max(box[:, 1]) + pad_h] = 1
        return np.where(h_array == 0)[0], np.where(w_array == 0)[0]

    def _split(self, polys: list[np.ndarray], patch: Polygon
               ) -> tuple[bool, list[np.ndarray], list[np.ndarray]]:
        """(cut, outside, inside): whether the patch cuts a polygon, else which lie outside
        and which inside it (MMOCR stops at the first cut one)."""
        keep, new = [], []
        for polygon in polys:
            ppi = Polygon(polygon.reshape(-1, 2))
            valid = ppi if ppi.is_valid else ppi.buffer(0)
            inter = valid.intersection(patch).area
            if np.abs(inter - float(ppi.area)) > self.epsilon and np.abs(inter) > self.epsilon:
                return True, keep, new
            if np.abs(inter - float(ppi.area)) < self.epsilon:
                new.append(polygon)
            else:
                keep.append(polygon)
        return False, keep, new

    def random_crop_flip(self, results: dict[str, Any]) -> dict[str, Any]:
        image = results["img"]
        polygons = _polys(results, "gt_masks")
        ignore_polygons = _polys(results, "gt_masks_ignore")
        if len(polygons) == 0:
            return results
        if np.random.random() >= self.crop_ratio:
            return results
        h, w = results["img_shape"][:2]
        area = h * w
        pad_h, pad_w = int(h * self.pad_ratio), int(w * self.pad_ratio)
        h_axis, w_axis = self.generate_crop_target(image, polygons + ignore_polygons, pad_h,
                                                   pad_w)
        if len(h_axis) == 0 or len(w_axis) == 0:
            return results
        # MMOCR uses what the last of the ten attempts left, even a failed one
        polys_keep, polys_new, ign_keep, ign_new = [], [], [], []
        for _ in range(10):
            polys_keep, polys_new, ign_keep, ign_new = [], [], [], []
            xx = np.random.choice(w_axis, size=2)
            xmin = int(np.clip(np.min(xx) - pad_w, 0, w - 1))
            xmax = int(np.clip(np.max(xx) - pad_w, 0, w - 1))
            yy = np.random.choice(h_axis, size=2)
            ymin = int(np.clip(np.min(yy) - pad_h, 0, h - 1))
            ymax = int(np.clip(np.max(yy) - pad_h, 0, h - 1))
            if (xmax - xmin) * (ymax - ymin) < area * self.min_area_ratio:
                continue
            patch = Polygon(np.stack([[xmin, xmax, xmax, xmin],
                                      [ymin, ymin, ymax, ymax]]).T.astype(np.int32))
            # MMOCR checks the ignored polygons even after a cut one
            cut, polys_keep, polys_new = self._split(polygons, patch)
            cut_ignored, ign_keep, ign_new = self._split(ignore_polygons, patch)
            if not (cut or cut_ignored):
                break

        select_type = np.random.randint(3)
        flip_x, flip_y = select_type in (0, 2), select_type in (1, 2)

        def flip(a: np.ndarray) -> np.ndarray:
            patch = a[ymin:ymax, xmin:xmax]
            a[ymin:ymax, xmin:xmax] = np.ascontiguousarray(
                patch[::-1 if flip_y else 1, ::-1 if flip_x else 1])
            return a
        # in place, as MMOCR (the image array is modified)
        results["img"] = flip(image)
        _maps(results, lambda a: flip(np.array(a, copy=True)))
        if len(polys_new) + len(ign_new) != 0:
            height, width = ymax - ymin, xmax - xmin

            def flip_poly(p: np.ndarray) -> np.ndarray:
                p = np.array(p, copy=True)
                if flip_x:
                    p[0::2] = width - p[0::2] + 2 * xmin
                if flip_y:
                    p[1::2] = height - p[1::2] + 2 * ymin
                return p
            results["gt_masks"] = polys_keep + [flip_poly(p) for p in polys_new]
            results["gt_masks_ignore"] = ign_keep + [flip_poly(p) for p in ign_new]
        return results

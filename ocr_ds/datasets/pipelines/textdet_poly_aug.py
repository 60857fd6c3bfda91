"""Polygon-instance augmentations of MMOCR 0.6.3's FCENet / TextSnake (CTW1500) pipelines:
``RandomScaling``, ``RandomCropFlip``, ``RandomCropPolyInstances``,
``RandomRotatePolyInstances``, ``SquareResizePad``.

Each step draws from ``numpy.random`` in exactly MMOCR's order and computes as MMOCR does, so
the same input and the same numpy seed give MMOCR's image and polygons: polygons stay in the
dtype they were loaded in (float32) and are moved with Python scalars, which numpy applies in
that dtype as MMOCR's numpy did. What MMOCR's steps leave alone stays alone (the boxes in
``bbox_fields``); dense maps in ``seg_fields``, which MMOCR's pipelines never hold at these
steps, are moved with the image (nearest neighbour) so any order of steps stays consistent.

MMOCR's quirks are kept, on purpose, because its trained numbers come from them:
``RandomCropFlip`` uses its last attempt even when all ten failed, and
``RandomCropPolyInstances`` crops the polygons but not the boxes.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from shapely.geometry import Polygon

from ocr_ds.errors import bad_value


# --------------------------------------------------------------------------- helpers

def _polys(results: dict[str, Any], key: str) -> list[np.ndarray]:
    return list(results.get(key) or [])


def _masks_keys(results: dict[str, Any]) -> list[str]:
    """The polygon fields that hold polygons (MMOCR skips empty ones)."""
    return [k for k in results.get("mask_fields", []) if len(_polys(results, k))]


def _move_polys(results: dict[str, Any], fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """``fn`` on a copy of every flat polygon of every (non-empty) polygon field."""
    for key in _masks_keys(results):
        results[key] = [fn(np.array(p, copy=True)) for p in results[key]]


def _maps(results: dict[str, Any], fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """``fn`` on every ``(H, W)`` map (each map of a ``(K, H, W)`` stack) in ``seg_fields``."""
    for key in results.get("seg_fields", []):
        arr = results[key]
        results[key] = np.stack([fn(a) for a in arr]) if arr.ndim == 3 else fn(arr)


def _resize(img: np.ndarray, w: int, h: int, nearest: bool = False) -> np.ndarray:
    """``mmcv.imresize`` (bilinear, or nearest for maps)."""
    out = cv2.resize(np.ascontiguousarray(img), (w, h),
                     interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)
    return out[:, :, None] if img.ndim == 3 and out.ndim == 2 else out


def _resize_all(results: dict[str, Any], h: int, w: int, new_h: int, new_w: int) -> None:
    """PolygonMasks.resize of every polygon field, and the maps."""
    sx, sy = new_w / w, new_h / h

    def scale(p: np.ndarray) -> np.ndarray:
        p[0::2] = p[0::2] * sx
        p[1::2] = p[1::2] * sy
        return p
    _move_polys(results, scale)
    _maps(results, lambda a: _resize(a, new_w, new_h, nearest=True))


def _set_img(results: dict[str, Any], img: np.ndarray) -> None:
    results["img"] = img
    results["img_shape"] = img.shape


def _filler(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """MMOCR's background for padded areas: a random ninth of the image stretched over the
    whole output (two ``randint`` draws, row first)."""
    h, w = img.shape[:2]
    h_ind, w_ind = np.random.randint(0, h * 7 // 8), np.random.randint(0, w * 7 // 8)
    cut = img[h_ind:h_ind + h // 9, w_ind:w_ind + w // 9]
    return _resize(cut, out_w, out_h)


# --------------------------------------------------------------------------- steps

class RandomScaling:
    """Scale so the long side becomes ``size`` x a ratio uniform in ``scale``, keeping the
    aspect ratio (MMOCR's ``RandomScaling``).

    Args:
        size: The base long side. Defaults to 800.
        scale: ``(low, high)`` ratio range, or a float s for ``(1 - s, 1 + s)``.
            Defaults to (3/4, 5/2).
    """

    def __init__(self, size: int = 800, scale: Sequence[float] | float = (3. / 4, 5. / 2)):
        if not isinstance(size, int) or size < 1:
            raise bad_value("RandomScaling.size", size, "a positive integer")
        if isinstance(scale, (int, float)):
            scale = (1 - scale, 1 + scale)
        if not isinstance(scale, (list, tuple)) or len(scale) != 2:
            raise bad_value("RandomScaling.scale", scale, "a (low, high) pair or a float")
        self.size = size
        self.scale = (float(scale[0]), float(scale[1]))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        h, w = results["img_shape"][:2]
        ratio = np.random.uniform(min(self.scale), max(self.scale))
        factor = self.size * 1.0 / max(h, w) * ratio
        new_h, new_w = int(h * factor), int(w * factor)
        _set_img(results, _resize(results["img"], new_w, new_h))
        _resize_all(results, h, w, new_h, new_w)
        return results


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


class RandomRotatePolyInstances:
    """With probability ``rotate_ratio``, rotate by an angle uniform in
    ``[-max_angle, max_angle]`` onto a canvas that holds the whole rotated image; the corners
    are filled with ``pad_value`` or (default) a stretched random patch of the image.

    Args:
        rotate_ratio: Probability of rotating. Defaults to 0.5.
        max_angle: Largest angle in degrees. Defaults to 10.
        pad_with_fixed_color: Fill with ``pad_value`` instead of an image patch.
            Defaults to False.
        pad_value: The fill colour. Defaults to (0, 0, 0).
    """

    def __init__(self, rotate_ratio: float = 0.5, max_angle: float = 10,
                 pad_with_fixed_color: bool = False, pad_value: Sequence[int] = (0, 0, 0)):
        self.rotate_ratio = rotate_ratio
        self.max_angle = max_angle
        self.pad_with_fixed_color = pad_with_fixed_color
        self.pad_value = tuple(pad_value)

    @staticmethod
    def rotate(center: tuple[float, float], points: np.ndarray, theta: float,
               center_shift: tuple[int, int] = (0, 0)) -> np.ndarray:
        """Rotate flat ``points`` (in place) by ``theta`` degrees, counter-clockwise on screen,
        about ``center``, then shift by ``center_shift``."""
        center_x, center_y = center
        center_y = -center_y
        x, y = points[::2], -points[1::2]
        theta = theta / 180 * math.pi
        cos, sin = math.cos(theta), math.sin(theta)
        x = x - center_x
        y = y - center_y
        _x = center_x + x * cos - y * sin + center_shift[0]
        _y = -(center_y + x * sin + y * cos) + center_shift[1]
        points[::2], points[1::2] = _x, _y
        return points

    @staticmethod
    def cal_canvas_size(ori_size: tuple, degree: float) -> tuple[int, int]:
        angle = degree * math.pi / 180.0
        h, w = ori_size[:2]
        cos, sin = math.cos(angle), math.sin(angle)
        return (int(w * math.fabs(sin) + h * math.fabs(cos)),
                int(w * math.fabs(cos) + h * math.fabs(sin)))

    def rotate_img(self, img: np.ndarray, angle: float, canvas_size: tuple[int, int],
                   nearest: bool = False) -> np.ndarray:
        h, w = img.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1)
        matrix[0, 2] += int((canvas_size[1] - w) / 2)
        matrix[1, 2] += int((canvas_size[0] - h) / 2)
        size = (canvas_size[1], canvas_size[0])
        if nearest:      # a target map: no filler, nothing drawn from the RNG
            return cv2.warpAffine(img, matrix, size, flags=cv2.INTER_NEAREST, borderValue=0)
        if self.pad_with_fixed_color:
            return cv2.warpAffine(img, matrix, size, flags=cv2.INTER_NEAREST,
                                  borderValue=self.pad_value)
        cut = _filler(img, canvas_size[0], canvas_size[1])
        mask = cv2.warpAffine(np.zeros_like(img), matrix, size, borderValue=[1, 1, 1])
        return cv2.warpAffine(img, matrix, size, borderValue=[0, 0, 0]) + cut * mask

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if np.random.random_sample() < self.rotate_ratio:
            img = results["img"]
            h, w = img.shape[:2]
            angle = np.random.random_sample() * 2 * self.max_angle - self.max_angle
            canvas = self.cal_canvas_size((h, w), angle)
            shift = (int((canvas[1] - w) / 2), int((canvas[0] - h) / 2))
            results["rotated_poly_angle"] = angle
            _set_img(results, self.rotate_img(img, angle, canvas))
            _maps(results, lambda a: self.rotate_img(a, angle, canvas, nearest=True))
            _move_polys(results, lambda p: self.rotate((w / 2, h / 2), p, angle, shift))
        return results


class SquareResizePad:
    """Make the image ``target_size`` square: with probability ``pad_ratio`` resize the long
    side to it and pad the short side (centred) with a stretched random patch of the image
    (or ``pad_value``), otherwise stretch both sides to it.

    Args:
        target_size: The square's side.
        pad_ratio: Probability of keeping the aspect ratio. Defaults to 0.6.
        pad_with_fixed_color: Pad with ``pad_value``. Defaults to False.
        pad_value: The pad colour. Defaults to (0, 0, 0).
    """

    def __init__(self, target_size: int, pad_ratio: float = 0.6,
                 pad_with_fixed_color: bool = False, pad_value: Sequence[int] = (0, 0, 0)):
        if not isinstance(target_size, int) or target_size < 1:
            raise bad_value("SquareResizePad.target_size", target_size, "a positive integer")
        self.target_size = target_size
        self.pad_ratio = pad_ratio
        self.pad_with_fixed_color = pad_with_fixed_color
        self.pad_value = tuple(pad_value)

    def resize_img(self, img: np.ndarray, keep_ratio: bool = True
                   ) -> tuple[np.ndarray, tuple[int, int]]:
        h, w = img.shape[:2]
        t = self.target_size
        if keep_ratio:
            t_h = t if h >= w else int(h * t / w)
            t_w = t if h <= w else int(w * t / h)
        else:
            t_h = t_w = t
        return _resize(img, t_w, t_h), (t_h, t_w)

    def square_pad(self, img: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
        h, w = img.shape[:2]
        if h == w:
            return img, (0, 0)
        size = max(h, w)
        if self.pad_with_fixed_color:
            # the image's dtype (MMOCR's canvas is uint8, which wraps a normalised image)
            expand = np.empty((size, size) + img.shape[2:], dtype=img.dtype)
            expand[:] = self.pad_value
        else:
            expand = _filler(img, size, size)
        y0, x0 = (0, (h - w) // 2) if h > w else ((w - h) // 2, 0)
        expand[y0:y0 + h, x0:x0 + w] = img
        return expand, (x0, y0)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        h, w = img.shape[:2]
        if np.random.random_sample() < self.pad_ratio:
            img, (t_h, t_w) = self.resize_img(img, keep_ratio=True)
            img, (x0, y0) = self.square_pad(img)
        else:
            img, (t_h, t_w) = self.resize_img(img, keep_ratio=False)
            x0 = y0 = 0
        _set_img(results, img)
        _resize_all(results, h, w, t_h, t_w)
        side = img.shape[0]

        def pad_map(a: np.ndarray) -> np.ndarray:
            out = np.zeros((side, side), dtype=a.dtype)
            out[y0:y0 + a.shape[0], x0:x0 + a.shape[1]] = a
            return out

        def shift(p: np.ndarray) -> np.ndarray:
            p[::2] = p[::2] + x0
            p[1::2] = p[1::2] + y0
            return p
        _maps(results, pad_map)
        _move_polys(results, shift)
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

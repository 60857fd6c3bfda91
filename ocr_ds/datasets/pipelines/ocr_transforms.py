"""Text recognition steps: resize a word crop to a fixed height (MMOCR 0.x ``ResizeOCR``) and
MMOCR's test-time rotation (``MultiRotateAugOCR``).

``valid_ratio`` (the share of the padded width that holds the image) is computed exactly as
MMOCR does; the recogniser later recomputes it against the batch width, as MMOCR's
``EncodeDecodeRecognizer`` does, because the collate pads every crop to the widest one.
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.pipelines.compose import Compose
from ocr_ds.errors import UserError


def _rank() -> int:
    try:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return dist.get_rank()
    except ImportError:  # pragma: no cover - torch always has it
        pass
    return int(os.environ.get("RANK", 0))


def imresize(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize to ``(height, width)`` (mmcv ``imresize`` with the cv2 backend)."""
    return cv2.resize(img, (int(width), int(height)), interpolation=cv2.INTER_LINEAR)


PADDING_MODES = {"constant": cv2.BORDER_CONSTANT, "edge": cv2.BORDER_REPLICATE,
                 "reflect": cv2.BORDER_REFLECT_101, "symmetric": cv2.BORDER_REFLECT}


def impad(img: np.ndarray, height: int, width: int, pad_val: float = 0,
          padding_mode: str = "constant") -> np.ndarray:
    """Pad at the bottom/right to ``(height, width)`` (mmcv ``impad(shape=...)``).

    As mmcv, through ``cv2.copyMakeBorder``: a single non-zero ``pad_val`` fills only the first
    channel of a colour image (OpenCV's reading of a scalar), which MMOCR's numbers include.
    """
    bottom, right = max(height - img.shape[0], 0), max(width - img.shape[1], 0)
    return cv2.copyMakeBorder(img, 0, bottom, 0, right, PADDING_MODES[padding_mode],
                              value=pad_val)


class ResizeOCR:
    """Resize to ``height`` and a width bounded by ``min_width`` / ``max_width``, padding if needed.

    Args:
        height: Target height, or a tuple of heights (one picked per rank, MMOCR's multi-scale).
        min_width: Smallest width after resizing (None: no bound). Defaults to None.
        max_width: Largest width; narrower crops are padded to it and ``valid_ratio`` < 1.
            Required when ``keep_aspect_ratio=False``. Defaults to None.
        keep_aspect_ratio: Keep the aspect ratio (width rounded to a multiple of
            ``1 / width_downsample_ratio``); otherwise resize to ``height x max_width``.
            Defaults to True.
        img_pad_value: Value of padded pixels. Defaults to 0.
        width_downsample_ratio: Width reduction of the backbone. Defaults to 1/16.
        backend: Only ``'cv2'`` (or None). Defaults to None.
        padding_mode: ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``. Defaults
            to ``'constant'``.
    """

    def __init__(self, height: int | Sequence[int], min_width: int | Sequence[int] | None = None,
                 max_width: int | Sequence[int] | None = None, keep_aspect_ratio: bool = True,
                 img_pad_value: int = 0, width_downsample_ratio: float = 1.0 / 16,
                 backend: str | None = None, padding_mode: str = "constant"):
        if not keep_aspect_ratio and max_width is None:
            raise UserError("ResizeOCR.max_width: must be set when keep_aspect_ratio=False")
        if isinstance(height, (list, tuple)):
            if not (isinstance(min_width, (list, tuple)) and isinstance(max_width, (list, tuple))
                    and len(height) == len(min_width) == len(max_width)):
                raise UserError("ResizeOCR: a tuple of heights needs min_width and max_width "
                                "tuples of the same length")
        if backend not in (None, "cv2"):
            raise UserError(f"ResizeOCR.backend: only 'cv2' is supported (got {backend!r})")
        if padding_mode not in PADDING_MODES:
            raise UserError(f"ResizeOCR.padding_mode: expected one of {sorted(PADDING_MODES)} "
                            f"(got {padding_mode!r})")
        self.height = height
        self.min_width = min_width
        self.max_width = max_width
        self.keep_aspect_ratio = keep_aspect_ratio
        self.img_pad_value = img_pad_value
        self.width_downsample_ratio = width_downsample_ratio
        self.padding_mode = padding_mode

    def _target(self) -> tuple[int, int | None, int | None]:
        if isinstance(self.height, int):
            return self.height, self.min_width, self.max_width  # type: ignore[return-value]
        idx = _rank() % len(self.height)
        return self.height[idx], self.min_width[idx], self.max_width[idx]  # type: ignore[index]

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        dst_height, dst_min_width, dst_max_width = self._target()
        img = results["img"]
        ori_height, ori_width = results["img_shape"][:2]
        valid_ratio = 1.0
        if self.keep_aspect_ratio:
            new_width = math.ceil(float(dst_height) / ori_height * ori_width)
            width_divisor = int(1 / self.width_downsample_ratio)
            if new_width % width_divisor != 0:
                new_width = round(new_width / width_divisor) * width_divisor
            if dst_min_width is not None:
                new_width = max(dst_min_width, new_width)
            if dst_max_width is not None:
                valid_ratio = min(1.0, 1.0 * new_width / dst_max_width)
                resize_width = min(dst_max_width, new_width)
                img_resize = imresize(img, resize_width, dst_height)
                resize_shape = pad_shape = img_resize.shape
                if new_width < dst_max_width:
                    img_resize = impad(img_resize, dst_height, dst_max_width, self.img_pad_value,
                                       self.padding_mode)
                    pad_shape = img_resize.shape
            else:
                img_resize = imresize(img, new_width, dst_height)
                resize_shape = pad_shape = img_resize.shape
        else:
            img_resize = imresize(img, dst_max_width, dst_height)
            resize_shape = pad_shape = img_resize.shape

        results["img"] = img_resize
        results["img_shape"] = resize_shape
        results["resize_shape"] = resize_shape
        results["pad_shape"] = pad_shape
        results["valid_ratio"] = valid_ratio
        return results


class MultiRotateAugOCR:
    """MMOCR's test-time rotation: a crop taller than wide is also read rotated.

    When ``force_rotate`` or the crop's height exceeds its width, ``transforms`` run once per
    degree of ``rotate_degrees`` (0 always included; multiples of 90 below 360), on the image
    turned anticlockwise by that much, in MMOCR's order (its ``set`` iteration). The first view
    is the sample; the others ride along in ``img_metas['aug_views']`` (a list of
    ``{'img', 'img_metas'}``), and the recogniser keeps the view whose text has the best mean
    score, as MMOCR's ``aug_test``. As in MMOCR, ``img_shape`` is not updated by the rotation,
    so ``ResizeOCR`` sizes a rotated view from the unrotated shape.

    Args:
        transforms: Steps applied to each view.
        rotate_degrees: Degrees, or None for no rotation. Defaults to None.
        force_rotate: Rotate whatever the aspect ratio. Defaults to False.
    """

    def __init__(self, transforms: Sequence[dict], rotate_degrees: int | Sequence[int] | None = None,
                 force_rotate: bool = False):
        self.transforms = Compose(transforms, key="MultiRotateAugOCR.transforms")
        self.force_rotate = force_rotate
        if rotate_degrees is None:
            degrees = [0]
        else:
            degrees = list(rotate_degrees) if isinstance(rotate_degrees, (list, tuple)) \
                else [rotate_degrees]
            for degree in degrees:
                if (not isinstance(degree, int) or isinstance(degree, bool)
                        or not 0 <= degree < 360 or degree % 90):
                    raise UserError(f"MultiRotateAugOCR.rotate_degrees: expected multiples of 90 "
                                    f"in [0, 360) (got {rotate_degrees!r})")
            if 0 not in degrees:
                degrees.append(0)
        self.rotate_degrees = degrees

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        ori_height, ori_width = results["img_shape"][:2]
        degrees = [0] if not self.force_rotate and ori_height <= ori_width else self.rotate_degrees
        views = []
        for degree in set(degrees):  # MMOCR's order: that of the set
            view = results.copy()
            if degree:
                view["img"] = np.ascontiguousarray(np.rot90(view["img"], degree // 90))
            data = self.transforms(view)
            if data is None:
                return None
            views.append(data)
        first = views[0]
        if len(views) > 1:
            first["img_metas"] = dict(first["img_metas"], aug_views=[
                {"img": v["img"], "img_metas": v["img_metas"]} for v in views[1:]])
        return first

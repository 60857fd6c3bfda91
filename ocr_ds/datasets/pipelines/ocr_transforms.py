"""Text recognition steps: resize a word crop to a fixed height (MMOCR 0.x ``ResizeOCR``).

``valid_ratio`` (the share of the padded width that holds the image) is computed exactly as
MMOCR does; the recogniser later recomputes it against the batch width, as MMOCR's
``EncodeDecodeRecognizer`` does, because the collate pads every crop to the widest one.
"""
from __future__ import annotations

import logging
import math
import os
from typing import Any, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.pipelines.compose import Compose
from ocr_ds.errors import UserError

logger = logging.getLogger("ocr_ds")


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


def impad(img: np.ndarray, height: int, width: int, pad_val: float = 0) -> np.ndarray:
    """Pad at the bottom/right to ``(height, width)`` (mmcv ``impad(shape=...)``)."""
    shape = (height, width) + tuple(img.shape[2:])
    out = np.full(shape, pad_val, dtype=img.dtype)
    out[: img.shape[0], : img.shape[1], ...] = img
    return out


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
    """

    def __init__(self, height: int | Sequence[int], min_width: int | Sequence[int] | None = None,
                 max_width: int | Sequence[int] | None = None, keep_aspect_ratio: bool = True,
                 img_pad_value: int = 0, width_downsample_ratio: float = 1.0 / 16,
                 backend: str | None = None):
        if not keep_aspect_ratio and max_width is None:
            raise UserError("ResizeOCR.max_width: must be set when keep_aspect_ratio=False")
        if isinstance(height, (list, tuple)):
            if not (isinstance(min_width, (list, tuple)) and isinstance(max_width, (list, tuple))
                    and len(height) == len(min_width) == len(max_width)):
                raise UserError("ResizeOCR: a tuple of heights needs min_width and max_width "
                                "tuples of the same length")
        if backend not in (None, "cv2"):
            raise UserError(f"ResizeOCR.backend: only 'cv2' is supported (got {backend!r})")
        self.height = height
        self.min_width = min_width
        self.max_width = max_width
        self.keep_aspect_ratio = keep_aspect_ratio
        self.img_pad_value = img_pad_value
        self.width_downsample_ratio = width_downsample_ratio

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
                    img_resize = impad(img_resize, dst_height, dst_max_width, self.img_pad_value)
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
    """MMOCR's test-time rotation wrapper, kept so its configs load.

    Only the unrotated view is produced (the engine's contract is one prediction per sample), so
    ``rotate_degrees`` other than ``[0]`` log one warning and are otherwise ignored.
    """

    _warned = False

    def __init__(self, transforms: Sequence[dict], rotate_degrees: Sequence[int] | None = None,
                 force_rotate: bool = False):
        self.transforms = Compose(transforms, key="MultiRotateAugOCR.transforms")
        degrees = list(rotate_degrees or [0])
        if any(d % 360 for d in degrees) and not MultiRotateAugOCR._warned:
            MultiRotateAugOCR._warned = True
            logger.warning("MultiRotateAugOCR: rotate_degrees=%s: test-time rotation is not "
                           "supported; only the 0-degree view is used", degrees)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        return self.transforms(results)

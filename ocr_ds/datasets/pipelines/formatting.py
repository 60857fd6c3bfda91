"""Normalising and formatting steps: from a decoded ``numpy`` image to the sample dict.

Two styles exist in MMOCR configs and both are kept:

* mmdet style: ``Normalize(mean, std, to_rgb)`` on the ``(H, W[, C])`` array, then
  ``DefaultFormatBundle`` (array -> ``(C, H, W)`` float tensor), then ``Collect``.
* torchvision style: ``ToTensorOCR`` (``/255`` and ``(C, H, W)``), ``NormalizeOCR(mean, std)``
  on the tensor, then ``Collect``.

``Collect(keys, meta_keys)`` ends a pipeline: the sample is ``{key: results[key] for key in keys}``
plus ``img_metas``, a plain dict of the ``meta_keys`` (and always ``filename``, ``ori_shape``,
``img_shape`` when known: the engine's contract asks for them).
"""
from __future__ import annotations

from typing import Any, Sequence

import cv2
import numpy as np
import torch

from ocr_ds.errors import UserError

# mmdet's default meta keys; missing ones are left out rather than failing
DEFAULT_META_KEYS = ("filename", "ori_filename", "ori_shape", "img_shape", "pad_shape",
                     "scale_factor", "flip", "flip_direction", "img_norm_cfg")
_ALWAYS_META = ("filename", "ori_shape", "img_shape")


def _channels(img: np.ndarray) -> int:
    return 1 if img.ndim == 2 else img.shape[2]


def _as_list(values: Any) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


class Normalize:
    """``(img - mean) / std`` on the array, per channel (mmcv ``imnormalize``).

    Args:
        mean, std: One value per channel (a single value for grayscale).
        to_rgb: Swap BGR to RGB first; ignored for 1-channel images. Defaults to True.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_rgb: bool = True):
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if np.any(self.std == 0):
            raise UserError(f"Normalize.std: expected non-zero values (got {list(std)})")
        self.to_rgb = to_rgb

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in results.get("img_fields", ["img"]):
            img = results[key].astype(np.float32)
            if self.to_rgb and _channels(img) == 3:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            if self.mean.size not in (1, _channels(img)):
                raise UserError(f"Normalize.mean: {self.mean.size} values for an image with "
                                f"{_channels(img)} channel(s)")
            shape = (1, 1, -1) if img.ndim == 3 else (1, 1)
            mean = self.mean.reshape(shape) if img.ndim == 3 else self.mean.reshape(-1)[0]
            std = self.std.reshape(shape) if img.ndim == 3 else self.std.reshape(-1)[0]
            results[key] = (img - mean) / std
        results["img_norm_cfg"] = dict(mean=_as_list(self.mean), std=_as_list(self.std),
                                       to_rgb=self.to_rgb)
        return results


class ToTensorOCR:
    """``(H, W[, C])`` uint8 array -> ``(C, H, W)`` float tensor in [0, 1] (``to_tensor``)."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = np.asarray(results["img"])
        if img.ndim == 2:
            img = img[:, :, None]
        tensor = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        results["img"] = tensor.float().div(255.0) if img.dtype == np.uint8 else tensor.float()
        return results


class NormalizeOCR:
    """``(img - mean) / std`` on a ``(C, H, W)`` tensor (torchvision ``normalize``)."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = list(mean)
        self.std = list(std)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = results["img"]
        if not isinstance(img, torch.Tensor):
            raise UserError("NormalizeOCR: expected a tensor image; put ToTensorOCR before it")
        mean = torch.tensor(self.mean, dtype=img.dtype).view(-1, 1, 1)
        std = torch.tensor(self.std, dtype=img.dtype).view(-1, 1, 1)
        results["img"] = (img - mean) / std
        results["img_norm_cfg"] = dict(mean=self.mean, std=self.std)
        return results


class DefaultFormatBundle:
    """``img`` array -> contiguous ``(C, H, W)`` float32 tensor; adds mmdet's default meta keys.

    Other keys are left as they are (task-specific bundles convert their own targets).
    """

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if "img" not in results:
            return results
        img = results["img"]
        if isinstance(img, np.ndarray):
            results.setdefault("pad_shape", img.shape)
            results.setdefault("scale_factor", 1.0)
            channels = _channels(img)
            results.setdefault("img_norm_cfg", dict(mean=[0.0] * channels, std=[1.0] * channels,
                                                    to_rgb=False))
            if img.ndim == 2:
                img = img[:, :, None]
            img = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        results["img"] = img.float()
        return results


class ImageToTensor:
    """Convert the arrays under ``keys`` to ``(C, H, W)`` tensors (no dtype change)."""

    def __init__(self, keys: Sequence[str] = ("img",)):
        self.keys = list(keys)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for key in self.keys:
            img = np.asarray(results[key])
            if img.ndim == 2:
                img = img[:, :, None]
            results[key] = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        return results


class Collect:
    """Keep ``keys`` and gather ``meta_keys`` into ``img_metas`` (missing meta keys are left out).

    Args:
        keys: Keys of the sample (``['img']`` for recognition).
        meta_keys: Keys copied into ``img_metas``. Defaults to mmdet's list.
    """

    def __init__(self, keys: Sequence[str], meta_keys: Sequence[str] = DEFAULT_META_KEYS):
        self.keys = list(keys)
        self.meta_keys = list(meta_keys)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        metas: dict[str, Any] = {}
        for key in (*self.meta_keys, *_ALWAYS_META):
            if key in results and key not in metas:
                metas[key] = results[key]
        missing = [k for k in self.keys if k not in results]
        if missing:
            raise UserError(f"Collect.keys: {missing} not produced by the pipeline steps before "
                            f"it (have {sorted(results)})")
        sample = {key: results[key] for key in self.keys}
        sample["img_metas"] = metas
        return sample

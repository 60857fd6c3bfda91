"""MMOCR 0.6.3's transform wrappers (``datasets/pipelines/transform_wrappers.py``).

* ``RandomWrapper(transforms, p)``: runs its steps when ``np.random.uniform() <= p``;
* ``OneOfWrapper(transforms)``: runs one step picked by python's ``random.choice``;
* ``TorchVisionWrapper(op, **kwargs)``: a torchvision transform on the image (BGR -> RGB PIL
  image -> transform -> BGR array), updating ``img_shape``. The ops are those of
  :mod:`~ocr_ds.datasets.pipelines.torchvision_ops` (torchvision itself is not installed).

The same RNG draws as MMOCR's (numpy, python ``random``, torch), so a seeded pipeline gives
MMOCR's images.
"""
from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from ocr_ds.datasets.pipelines.compose import Compose
from ocr_ds.datasets.pipelines.torchvision_ops import OPS
from ocr_ds.errors import UserError
from ocr_ds.registry import PIPELINES, build


class OneOfWrapper:
    """Run one of ``transforms``, each as likely."""

    def __init__(self, transforms: Sequence[Mapping[str, Any]]):
        if not isinstance(transforms, (list, tuple)) or not transforms:
            raise UserError(f"OneOfWrapper.transforms: expected a non-empty list of steps "
                            f"(got {transforms!r})")
        self.transforms = []
        for i, step in enumerate(transforms):
            if isinstance(step, Mapping):
                self.transforms.append(build(PIPELINES, step, f"OneOfWrapper.transforms.{i}"))
            elif callable(step):
                self.transforms.append(step)
            else:
                raise UserError(f"OneOfWrapper.transforms.{i}: expected a dict with a 'type' "
                                f"key (got {step!r})")

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        return random.choice(self.transforms)(results)

    def __repr__(self) -> str:
        return f"OneOfWrapper(transforms={self.transforms})"


class RandomWrapper:
    """Run ``transforms`` with probability ``p``."""

    def __init__(self, transforms: Sequence[Mapping[str, Any]], p: float):
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 <= p <= 1:
            raise UserError(f"RandomWrapper.p: expected a probability in [0, 1] (got {p!r})")
        self.transforms = Compose(transforms, key="RandomWrapper.transforms")
        self.p = p

    def __call__(self, results: dict[str, Any]) -> dict[str, Any] | None:
        return results if np.random.uniform() > self.p else self.transforms(results)

    def __repr__(self) -> str:
        return f"RandomWrapper(transforms={self.transforms}, p={self.p})"


class TorchVisionWrapper:
    """A torchvision transform (``op``, by name, with its arguments) on the image."""

    def __init__(self, op: str, **kwargs: Any):
        if op not in OPS:
            raise UserError(f"TorchVisionWrapper.op: expected one of {sorted(OPS)} (the "
                            f"torchvision transforms ocr_ds reimplements) (got {op!r})")
        try:
            # named by the wrapper, so that the pipeline's builder puts the config key in front
            self.transform = OPS[op](**kwargs, key="TorchVisionWrapper")
        except TypeError as exc:
            raise UserError(f"TorchVisionWrapper: {op}: {exc}") from None
        self.kwargs = kwargs

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        img = Image.fromarray(np.ascontiguousarray(results["img"][..., ::-1]))
        img = np.asarray(self.transform(img))[..., ::-1]
        results["img"] = img
        results["img_shape"] = img.shape
        return results

    def __repr__(self) -> str:
        return f"TorchVisionWrapper(transform={type(self.transform).__name__}, {self.kwargs})"

"""The other recognition augmentations of MMOCR 0.6.3's ABINet pipeline: ``PyramidRescale``
(MMOCR's) and ``Albu`` (mmdet's albumentations wrapper) with the two albumentations transforms
the pipeline names, ``GaussNoise`` and ``MotionBlur``; and SegOCR's ``FancyPCA`` (MMOCR's).

``Albu`` here does not use albumentations: it runs those two as albumentations 1.2.1 does
(1.3 and later refuse ``MotionBlur(blur_limit=6)``, the config's value), with the same python
``random`` / numpy draws in the same order, so a seeded pipeline gives the same image:

* the ``Compose`` draws ``random.random()`` once (``p=1``), then each transform draws
  ``random.random() < p`` and, when it runs, its parameters;
* ``GaussNoise(var_limit=(lo, hi), mean=0, per_channel=True)``: ``var = random.uniform(lo,
  hi)``, noise ``N(mean, sqrt(var))`` of the image's shape (the 2-D shape, broadcast, without
  ``per_channel``) from ``np.random.RandomState(random.randint(0, 2**32 - 1))``; image (as
  float32) + noise, clipped to [0, 255], truncated to uint8;
* ``MotionBlur(blur_limit)``: an odd kernel size from ``[3, blur_limit]``
  (``random.choice``), a one-pixel line between two random points of the kernel (distinct
  rows when the columns coincide), normalised; ``cv2.filter2D``.

Any other albumentations transform is a config error naming it.
"""
from __future__ import annotations

import random
from typing import Any, Mapping, Sequence

import cv2
import numpy as np

from ocr_ds.datasets.pipelines.ocr_transforms import imresize
from ocr_ds.errors import UserError


class PyramidRescale:
    """Resize to ``base_shape`` (w, h), ``factor`` times ``cv2.pyrDown``, resize back: a blur.

    Args:
        factor: Pyramid levels. Defaults to 4.
        base_shape: ``(width, height)`` of the base level. Defaults to (128, 512).
        randomize_factor: Replace ``factor`` by a random integer in ``[0, factor]``. As in
            MMOCR, it is drawn once, when the step is built (``np.random.randint``), not per
            image. Defaults to True.
    """

    def __init__(self, factor: int = 4, base_shape: Sequence[int] = (128, 512),
                 randomize_factor: bool = True):
        if not isinstance(factor, int) or isinstance(factor, bool) or factor < 0:
            raise UserError(f"PyramidRescale.factor: expected a non-negative integer "
                            f"(got {factor!r})")
        if not isinstance(base_shape, (list, tuple)) or len(base_shape) != 2:
            raise UserError(f"PyramidRescale.base_shape: expected (width, height) "
                            f"(got {base_shape!r})")
        if not isinstance(randomize_factor, bool):
            raise UserError(f"PyramidRescale.randomize_factor: expected True or False "
                            f"(got {randomize_factor!r})")
        self.factor = np.random.randint(0, factor + 1) if randomize_factor else factor
        self.base_w, self.base_h = base_shape

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        if self.factor == 0:
            return results
        img = results["img"]
        src_h, src_w = img.shape[:2]
        scaled = imresize(img, self.base_w, self.base_h)
        for _ in range(self.factor):
            scaled = cv2.pyrDown(scaled)
        results["img"] = imresize(scaled, src_w, src_h)
        return results

    def __repr__(self) -> str:
        return f"PyramidRescale(factor={self.factor}, base_w={self.base_w}, base_h={self.base_h})"


def _probability(value: Any, key: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise UserError(f"{key}: expected a probability in [0, 1] (got {value!r})")
    return value


class GaussNoise:
    """albumentations' ``GaussNoise`` (see the module docstring)."""

    def __init__(self, var_limit: Any = (10.0, 50.0), mean: float = 0, per_channel: bool = True,
                 always_apply: bool = False, p: float = 0.5, key: str = "Albu"):
        if isinstance(var_limit, (int, float)) and not isinstance(var_limit, bool):
            var_limit = (0, var_limit)
        if (not isinstance(var_limit, (list, tuple)) or len(var_limit) != 2
                or min(var_limit) < 0):
            raise UserError(f"{key}.var_limit: expected a non-negative number or [low, high] "
                            f"(got {var_limit!r})")
        self.var_limit, self.mean, self.per_channel = tuple(var_limit), mean, per_channel
        self.always_apply, self.p = always_apply, _probability(p, f"{key}.p")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        var = random.uniform(self.var_limit[0], self.var_limit[1])
        state = np.random.RandomState(random.randint(0, (1 << 32) - 1))
        shape = img.shape if self.per_channel else img.shape[:2]
        gauss = state.normal(self.mean, var**0.5, shape)
        if not self.per_channel and img.ndim == 3:
            gauss = gauss[..., None]
        maxval = 255 if img.dtype == np.uint8 else 1.0
        return np.clip(img.astype("float32") + gauss, 0, maxval).astype(img.dtype)


class MotionBlur:
    """albumentations 1.2.1's ``MotionBlur`` (see the module docstring)."""

    def __init__(self, blur_limit: Any = 7, always_apply: bool = False, p: float = 0.5,
                 key: str = "Albu"):
        if isinstance(blur_limit, int) and not isinstance(blur_limit, bool):
            blur_limit = (3, blur_limit) if 3 < blur_limit else (blur_limit, 3)
        if not isinstance(blur_limit, (list, tuple)) or len(blur_limit) != 2 \
                or max(blur_limit) < 3:
            raise UserError(f"{key}.blur_limit: expected a kernel size >= 3 or [low, high] "
                            f"(got {blur_limit!r})")
        self.blur_limit = tuple(blur_limit)
        self.always_apply, self.p = always_apply, _probability(p, f"{key}.p")

    def __call__(self, img: np.ndarray) -> np.ndarray:
        ksize = int(random.choice(np.arange(self.blur_limit[0], self.blur_limit[1] + 1, 2)))
        if ksize <= 2:
            raise UserError(f"Albu.MotionBlur.blur_limit: kernel sizes must be > 2 "
                            f"(got {self.blur_limit!r})")
        kernel = np.zeros((ksize, ksize), dtype=np.uint8)
        xs, xe = random.randint(0, ksize - 1), random.randint(0, ksize - 1)
        if xs == xe:
            ys, ye = random.sample(range(ksize), 2)
        else:
            ys, ye = random.randint(0, ksize - 1), random.randint(0, ksize - 1)
        cv2.line(kernel, (xs, ys), (xe, ye), 1, thickness=1)
        kernel = kernel.astype(np.float32) / np.sum(kernel)
        out = cv2.filter2D(img, ddepth=-1, kernel=kernel)
        return out.reshape(img.shape)       # albumentations' preserve_shape


ALBU_TRANSFORMS = {"GaussNoise": GaussNoise, "MotionBlur": MotionBlur}


class Albu:
    """mmdet's ``Albu(transforms=[...])`` for an image (see the module docstring).

    ``bbox_params``, ``keymap`` and the rest of mmdet's arguments concern boxes and masks,
    which recognition samples do not have: accepted only as None / False.
    """

    #: arguments holding typed dicts that are not pipeline steps (albumentations' names): the
    #: static config check leaves them to this class, which checks them when built
    own_typed_args = ("transforms",)

    def __init__(self, transforms: Sequence[Mapping[str, Any]], bbox_params: Any = None,
                 keymap: Any = None, update_pad_shape: bool = False,
                 skip_img_without_anno: bool = False):
        if bbox_params is not None or keymap is not None:
            raise UserError("Albu.bbox_params/keymap: boxes and masks are not supported by "
                            "ocr_ds's Albu (it runs GaussNoise and MotionBlur on the image)")
        if not isinstance(transforms, (list, tuple)):
            raise UserError(f"Albu.transforms: expected a list of dicts (got {transforms!r})")
        self.update_pad_shape = update_pad_shape
        self.transforms = []
        for i, cfg in enumerate(transforms):
            key = f"Albu.transforms.{i}"
            if not isinstance(cfg, Mapping) or cfg.get("type") not in ALBU_TRANSFORMS:
                name = cfg.get("type") if isinstance(cfg, Mapping) else cfg
                raise UserError(f"{key}.type: expected one of {sorted(ALBU_TRANSFORMS)} (the "
                                f"albumentations transforms ocr_ds reimplements) (got {name!r})")
            args = {k: v for k, v in cfg.items() if k != "type"}
            try:
                self.transforms.append(ALBU_TRANSFORMS[cfg["type"]](**args, key=key))
            except TypeError as exc:
                raise UserError(f"{key}: {exc}") from None

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        random.random()   # albumentations' Compose(p=1.0) draws once whatever p is
        img = results["img"]
        for t in self.transforms:
            if random.random() < t.p or t.always_apply:
                img = t(img)
        results["img"] = np.ascontiguousarray(img)
        if self.update_pad_shape:
            results["pad_shape"] = results["img"].shape
        return results

    def __repr__(self) -> str:
        return f"Albu(transforms={[type(t).__name__ for t in self.transforms]})"


class FancyPCA:
    """MMOCR's ``FancyPCA`` (SegOCR's pipeline): shift the colours of a ``(3, H, W)`` tensor
    along the principal components of ImageNet (Krizhevsky et al.), by
    ``eig_val * alpha @ eig_vec`` with ``alpha ~ N(0, 0.1^2)`` drawn from torch's RNG.

    Args:
        eig_vec: 3x3 eigenvectors (rows as MMOCR's transposed matrix). Defaults to ImageNet's.
        eig_val: 1x3 eigenvalues. Defaults to ImageNet's.
    """

    def __init__(self, eig_vec: Any = None, eig_val: Any = None):
        import torch

        if eig_vec is None:
            eig_vec = torch.Tensor([[-0.5675, +0.7192, +0.4009],
                                    [-0.5808, -0.0045, -0.8140],
                                    [-0.5836, -0.6948, +0.4203]]).t()
        if eig_val is None:
            eig_val = torch.Tensor([[0.2175, 0.0188, 0.0045]])
        self.eig_vec = torch.as_tensor(eig_vec, dtype=torch.float32).reshape(3, 3)
        self.eig_val = torch.as_tensor(eig_val, dtype=torch.float32).reshape(1, 3)

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        import torch

        img = results["img"]
        if not isinstance(img, torch.Tensor) or img.dim() != 3 or img.size(0) != 3:
            raise UserError("FancyPCA: expected a (3, H, W) tensor image; put ToTensorOCR "
                            "before it")
        alpha = torch.normal(mean=torch.zeros_like(self.eig_val)) * 0.1
        results["img"] = img + torch.mm(self.eig_val * alpha, self.eig_vec).view(3, 1, 1)
        return results

    def __repr__(self) -> str:
        return type(self).__name__

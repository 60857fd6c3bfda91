"""``ImgAug``: MMOCR's imgaug argument lists, run as the equivalent OpenCV operations.

MMOCR's DBNet configs augment with ``ImgAug(args=[['Fliplr', 0.5], dict(cls='Affine',
rotate=[-10, 10]), ['Resize', [0.5, 3.0]]])``, a wrapper around the imgaug library. ocr_ds
does not use imgaug: the augmenters those configs name are done here with the geometric helpers
of :mod:`~ocr_ds.datasets.pipelines.textdet_geometry`, moving image, polygons, boxes and maps
together; any other augmenter is a config error.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ocr_ds.datasets.pipelines.textdet_geometry import (flip_results, resize_results,
                                                        rotation_matrix, value_range,
                                                        warp_results)
from ocr_ds.errors import UserError


class ImgAug:
    """MMOCR's ``ImgAug(args=[...])`` without imgaug: the augmenters its configs use, done with
    OpenCV, applied in order to the image, polygons, boxes and maps alike.

    Supported entries (imgaug's names and argument order):
    ``['Fliplr', p]``, ``['Flipud', p]``, ``dict(cls='Affine', rotate=[a, b], scale=[s, t])``,
    ``['Rotate', [a, b]]``, ``['Resize', [lo, hi]]`` (one relative factor for both sides) or
    ``['Resize', x]``. Anything else is a config error naming the entry.

    ``clip_invalid_ploys`` (MMOCR's spelling) is accepted with either value; polygons are
    moved, never clipped to the image -- MMOCR's behaviour with ``False`` (its DBNet R50
    SynthText configs); MMOCR's default ``True`` clips them with imgaug first.
    """

    SUPPORTED = ("Fliplr", "Flipud", "Affine", "Rotate", "Resize")

    def __init__(self, args: Sequence[Any] | None = None, clip_invalid_ploys: bool = True):
        if not isinstance(clip_invalid_ploys, bool):
            raise UserError(f"ImgAug.clip_invalid_ploys: expected True or False "
                            f"(got {clip_invalid_ploys!r})")
        self.clip_invalid_polys = clip_invalid_ploys
        self.ops: list[tuple[str, dict[str, Any]]] = []
        for i, arg in enumerate(args or []):
            key = f"ImgAug.args.{i}"
            if isinstance(arg, dict):
                params = dict(arg)
                name = params.pop("cls", None)
            elif isinstance(arg, (list, tuple)) and arg and isinstance(arg[0], str):
                name, rest = arg[0], list(arg[1:])
                params = {"Fliplr": ["p"], "Flipud": ["p"], "Rotate": ["rotate"],
                          "Resize": ["size"], "Affine": ["scale", "translate_percent",
                                                         "translate_px", "rotate"]
                          }.get(name, [])
                params = dict(zip(params, rest))
            else:
                raise UserError(f"{key}: expected ['Name', args...] or dict(cls='Name', ...) "
                                f"(got {arg!r})")
            if name not in self.SUPPORTED:
                raise UserError(f"{key}: augmenter {name!r} is not supported; expected one of "
                                f"{', '.join(self.SUPPORTED)}")
            allowed = {"Fliplr": {"p"}, "Flipud": {"p"}, "Rotate": {"rotate"},
                       "Resize": {"size"}, "Affine": {"rotate", "scale"}}[name]
            extra = set(params) - allowed
            if extra:
                raise UserError(f"{key}: {name} arguments {sorted(extra)} are not supported "
                                f"(supported: {sorted(allowed)})")
            self.ops.append((name, params))

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        for name, params in self.ops:
            if name in ("Fliplr", "Flipud"):
                if np.random.rand() < float(params.get("p", 0.5)):
                    flip_results(results, "horizontal" if name == "Fliplr" else "vertical")
            elif name in ("Affine", "Rotate"):
                angle = np.random.uniform(*value_range(params.get("rotate", 0), f"ImgAug.{name}",
                                                  symmetric=True))
                scale = np.random.uniform(*value_range(params.get("scale", 1.0), "ImgAug.Affine"))
                h, w = results["img"].shape[:2]
                warp_results(results, rotation_matrix(w, h, angle, scale), w, h)
            else:  # Resize
                lo, hi = value_range(params.get("size", 1.0), "ImgAug.Resize")
                factor = np.random.uniform(lo, hi)
                h, w = results["img"].shape[:2]
                resize_results(results, int(round(w * factor)), int(round(h * factor)))
        results["flip"] = "unknown"
        results["flip_direction"] = "unknown"
        return results

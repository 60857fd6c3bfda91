"""Turn a list of sample dicts into one batch dict.

Tensors of one key are stacked; where their shapes differ (images of different widths, target
maps of different sizes), each is zero-padded at the bottom/right to the largest size first, as
mmcv's collate does for images. Everything else (metas, strings, lists of polygons) is kept as a
list of per-sample values.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F


def pad_stack(tensors: Sequence[torch.Tensor], value: float = 0.0) -> torch.Tensor:
    """Stack tensors of equal rank, zero-padding every dim at its end to the largest size."""
    shapes = [t.shape for t in tensors]
    if all(s == shapes[0] for s in shapes):
        return torch.stack(list(tensors))
    if any(len(s) != len(shapes[0]) for s in shapes):
        raise ValueError(f"cannot batch tensors of different ranks: {shapes}")
    target = [max(s[d] for s in shapes) for d in range(len(shapes[0]))]
    padded = []
    for t in tensors:
        pad: list[int] = []
        for d in reversed(range(t.dim())):  # F.pad takes the last dim first
            pad += [0, target[d] - t.shape[d]]
        padded.append(F.pad(t, pad, value=value))
    return torch.stack(padded)


def collate(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Default collate: tensors -> padded stack, anything else -> list."""
    if not samples:
        raise ValueError("collate: empty batch")
    batch: dict[str, Any] = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if all(isinstance(v, torch.Tensor) for v in values):
            batch[key] = pad_stack(values)
        else:
            batch[key] = values
    return batch

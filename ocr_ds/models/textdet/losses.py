"""The target fitting the detection losses share (DBNet's, PSENet's), as MMOCR 0.x.

Targets arrive as dense tensors at the (padded) input resolution, ``(N, H, W)`` or
``(N, K, H, W)``; :func:`fit_target` brings them to the prediction's resolution
(``downsample_ratio``, nearest neighbour, then zero pad or crop, as MMOCR's
``BitmapMasks.rescale`` + pad). Everything is computed in fp32 whatever the compute dtype of
the predictions, so the losses behave the same under bf16/fp16 engines.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F


def nearest_index(src: int, dst: int, device: torch.device | None = None) -> torch.Tensor:
    """The source row (or column) of each of ``dst`` outputs of a nearest-neighbour resize from
    ``src``, as OpenCV's ``INTER_NEAREST`` picks it (``floor(i / (dst / src))`` in double
    precision): what MMOCR's ``BitmapMasks.rescale`` (``mmcv.imrescale``) does to targets."""
    inv = 1.0 / (dst / src)
    return torch.tensor([min(math.floor(i * inv), src - 1) for i in range(dst)],
                        dtype=torch.long, device=device)


def fit_target(target: torch.Tensor, size: Sequence[int], ratio: float = 1.0) -> torch.Tensor:
    """Rescale a ``(N, [K,] H, W)`` target by ``ratio`` and pad/crop it to ``size`` (fp32).

    The rescaled size is ``int(H * ratio + 0.5)`` x ``int(W * ratio + 0.5)`` and the pixels
    those of OpenCV's nearest-neighbour resize, as mmcv's ``imrescale`` computes them."""
    t = target.float()
    if ratio != 1.0:
        h, w = t.shape[-2:]
        nh, nw = int(h * ratio + 0.5), int(w * ratio + 0.5)
        t = t.index_select(-2, nearest_index(h, nh, t.device))
        t = t.index_select(-1, nearest_index(w, nw, t.device))
    h, w = t.shape[-2:]
    th, tw = int(size[0]), int(size[1])
    if (h, w) != (th, tw):
        t = F.pad(t[..., :th, :tw], (0, max(tw - w, 0), 0, max(th - h, 0)))
    return t

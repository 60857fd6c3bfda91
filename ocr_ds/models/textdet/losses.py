"""What the detection losses share, as MMOCR 0.x: the target fitting (DBNet's, PSENet's,
DRRG's) and the OHEM-balanced BCE of TextSnake and DRRG.

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


def ohem_balanced_bce(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor,
                      ohem_ratio: float) -> torch.Tensor:
    """BCE of probabilities ``pred`` against ``gt`` inside ``mask``: every positive and the
    hardest negatives, at most ``ohem_ratio`` x the positives (100 when there is no positive),
    averaged (MMOCR's TextSnake and DRRG ``balance_bce_loss``)."""
    positive = gt * mask
    negative = (1 - gt) * mask
    positive_count = int(positive.float().sum())
    loss = F.binary_cross_entropy(pred, gt.float(), reduction="none")
    negative_loss = loss * negative.float()
    if positive_count > 0:
        positive_loss = torch.sum(loss * positive.float())
        negative_count = min(int(negative.float().sum()), int(positive_count * ohem_ratio))
    else:
        positive_loss = torch.tensor(0.0, device=pred.device)
        negative_count = 100
    negative_loss, _ = torch.topk(negative_loss.view(-1), negative_count)
    return (positive_loss + torch.sum(negative_loss)) / (
        float(positive_count + negative_count) + 1e-5)

"""A tiny model for engine tests and benchmarks (detectron2 tests its loop the same way).

``ToyRegressor`` maps a ``(N, C, H, W)`` image to ``out_features`` numbers and learns to
predict ``batch['target']``; in test mode it returns per-sample dicts that
:class:`ocr_ds.datasets.toy.ToyDataset` evaluates. ``nan_at_iter`` injects a NaN loss at that
training call (on every rank, or on rank ``nan_on_rank`` only), for the fault tests.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from ocr_ds.engine.dist import get_rank


class ToyRegressor(nn.Module):
    def __init__(self, in_channels: int = 1, size: int = 8, hidden: int = 32, out_features: int = 4,
                 nan_at_iter: int | None = None, nan_on_rank: int | None = None):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_channels * size * size, hidden),
                                 nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, out_features))
        self.nan_at_iter = nan_at_iter
        self.nan_on_rank = nan_on_rank
        self.calls = 0

    def forward(self, batch: dict[str, Any], return_loss: bool = True) -> Any:
        pred = self.net(batch["img"])
        if not return_loss:
            return [{"pred": p.float().tolist()} for p in pred]
        self.calls += 1
        loss = nn.functional.mse_loss(pred.float(), batch["target"].float())
        if self.nan_at_iter is not None and self.calls == self.nan_at_iter and (
                self.nan_on_rank is None or self.nan_on_rank == get_rank()):
            loss = loss * float("nan")
        return {"loss_mse": loss, "acc_dummy": (pred.detach().float() - batch["target"].float()).abs().mean()}

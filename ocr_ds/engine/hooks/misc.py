"""Small hooks users can name in ``custom_hooks``."""
from __future__ import annotations

import math
from typing import Any

import torch

from ocr_ds.engine import dist
from ocr_ds.engine.hooks.base import Hook


class EmptyCacheHook(Hook):
    """Release cached accelerator memory (mmcv's EmptyCacheHook)."""

    def __init__(self, before_epoch: bool = False, after_epoch: bool = True, after_iter: bool = False):
        self._before_epoch, self._after_epoch, self._after_iter = before_epoch, after_epoch, after_iter

    @staticmethod
    def _empty() -> None:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def before_train_epoch(self, runner: Any) -> None:
        if self._before_epoch:
            self._empty()

    def after_train_epoch(self, runner: Any) -> None:
        if self._after_epoch:
            self._empty()

    def after_train_iter(self, runner: Any) -> None:
        if self._after_iter:
            self._empty()

    # mmcv's hook acts on val epochs and iterations (the workflow's val phases) too
    before_val_epoch = before_train_epoch
    after_val_epoch = after_train_epoch
    after_val_iter = after_train_iter


class CheckInvalidLossHook(Hook):
    """MMDetection's hook: check every ``interval`` iterations that the logged loss is finite.

    (The loop already stops on a non-finite loss at every iteration; this hook is accepted so
    MMOCR configs that name it keep working.)
    """

    def __init__(self, interval: int = 50):
        self.interval = interval

    def after_train_iter(self, runner: Any) -> None:
        if self.every_n_iters(runner, self.interval):
            losses = runner.log_buffer.get("loss") or [0.0]
            assert math.isfinite(float(losses[-1])), "loss became infinite or NaN!"


class SyncBuffersHook(Hook):
    """mmcv's SyncBuffersHook: after each epoch every rank's buffers (BatchNorm running
    statistics, ...) become their mean over the ranks. Floating-point buffers only: counters
    such as ``num_batches_tracked`` are the same on every rank (mmcv's all-reduce divides
    them too, which current torch refuses for integer tensors)."""

    def __init__(self, distributed: bool = True):
        self.distributed = distributed

    def after_train_epoch(self, runner: Any) -> None:
        if self.distributed:
            dist.all_reduce_buffers_mean(runner.model)

    after_val_epoch = after_train_epoch

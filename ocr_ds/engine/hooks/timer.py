"""``data_time`` (waiting for the loader) and ``time`` (the whole iteration), as mmcv's IterTimerHook."""
from __future__ import annotations

import time
from typing import Any

from ocr_ds.engine.hooks.base import PRIORITIES, Hook


class IterTimerHook(Hook):
    priority = PRIORITIES["LOW"]

    def before_train_epoch(self, runner: Any) -> None:
        self.t = time.perf_counter()

    def before_train_iter(self, runner: Any) -> None:
        runner.put("data_time", time.perf_counter() - self.t)

    def after_train_iter(self, runner: Any) -> None:
        now = time.perf_counter()
        runner.put("time", now - self.t)
        self.t = now

    # the workflow's val phases, as mmcv's hook times them (into the phase's own buffer)
    before_val_epoch = before_train_epoch
    before_val_iter = before_train_iter
    after_val_iter = after_train_iter

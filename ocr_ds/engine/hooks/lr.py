"""Write the scheduled lr into the optimizer before every iteration.

DeepSpeed's own scheduler is left unset: its schedules step per optimizer update and know no
epochs, so mmcv's ``by_epoch``/warmup semantics come from :mod:`ocr_ds.schedules` instead.
"""
from __future__ import annotations

from typing import Any

from ocr_ds.engine.hooks.base import PRIORITIES, Hook


class LrUpdaterHook(Hook):
    priority = PRIORITIES["VERY_HIGH"]

    def __init__(self, schedule: Any):
        self.schedule = schedule
        self.base_lrs: list[float] | None = None

    def before_run(self, runner: Any) -> None:
        groups = runner.optimizer.param_groups
        if self.base_lrs is None:  # not restored from a checkpoint
            self.base_lrs = [self.schedule.initial_lr(g.get("initial_lr", g["lr"])) for g in groups]
        for group, base in zip(groups, self.base_lrs):
            group["initial_lr"] = base

    def before_train_iter(self, runner: Any) -> None:
        for group, base in zip(runner.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.schedule.lr(base, runner.epoch, runner.iter)

    def state_dict(self) -> dict[str, Any]:
        return {"base_lrs": self.base_lrs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_lrs = state.get("base_lrs")

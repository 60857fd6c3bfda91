"""The hook interface: a handful of no-op methods, and state that survives a resume."""
from __future__ import annotations

from typing import Any

# mmcv's priority names, used only to place user ``custom_hooks`` among the built-in ones
PRIORITIES = {"HIGHEST": 0, "VERY_HIGH": 10, "HIGH": 30, "ABOVE_NORMAL": 40, "NORMAL": 50,
              "BELOW_NORMAL": 60, "LOW": 70, "VERY_LOW": 90, "LOWEST": 100}


class Hook:
    """Override what you need. ``runner`` is :class:`ocr_ds.engine.runner.Runner`."""

    priority: int = PRIORITIES["NORMAL"]

    def before_run(self, runner: Any) -> None: ...
    def before_train_epoch(self, runner: Any) -> None: ...
    def before_train_iter(self, runner: Any) -> None: ...
    def after_train_iter(self, runner: Any) -> None: ...
    def after_train_epoch(self, runner: Any) -> None: ...
    # a val phase of the workflow (ocr_ds.engine.workflow): runner.mode == 'val', runner.epoch
    # the training epochs done, runner.inner_iter the val batch
    def before_val_epoch(self, runner: Any) -> None: ...
    def before_val_iter(self, runner: Any) -> None: ...
    def after_val_iter(self, runner: Any) -> None: ...
    def after_val_epoch(self, runner: Any) -> None: ...
    def after_run(self, runner: Any) -> None: ...

    def on_stop(self, runner: Any, after_epoch: bool) -> None:
        """The ranks agreed to stop (a signal, the launcher gone) after the running iteration
        (``after_epoch``: after the epoch's hooks). Called on every rank; collectives allowed."""

    def state_dict(self) -> dict[str, Any]:
        """What must survive a resume (e.g. the best score); plain JSON-able values."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    # mmcv-style helpers
    @staticmethod
    def every_n_epochs(runner: Any, n: int) -> bool:
        return n > 0 and (runner.epoch + 1) % n == 0

    @staticmethod
    def every_n_iters(runner: Any, n: int) -> bool:
        return n > 0 and (runner.iter + 1) % n == 0

    @staticmethod
    def every_n_inner_iters(runner: Any, n: int) -> bool:
        return n > 0 and (runner.inner_iter + 1) % n == 0

    @staticmethod
    def end_of_epoch(runner: Any) -> bool:
        return runner.inner_iter + 1 == runner.iters_per_epoch

    @staticmethod
    def is_last_iter(runner: Any) -> bool:
        return runner.iter + 1 == runner.max_iters

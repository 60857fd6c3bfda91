"""Build the hook list from the config, in the order the loop calls them.

The order, and why:

1. ``LrUpdaterHook`` — first: every later hook (and the log line) sees the lr this iteration
   trains with; then ``MomentumUpdaterHook`` when the config has a ``momentum_config`` (mmcv's
   priorities VERY_HIGH and HIGH).
2. ``CheckpointHook`` — before evaluation, so a failed or hanging evaluation still leaves the
   checkpoint of the epoch to debug or resume from.
3. ``IterTimerHook`` — after the checkpoint (as mmcv), so a save's time shows in that iteration's
   ``time``.
4. ``EvalHook`` — after the checkpoint; it may save the best weights itself.
5. user ``custom_hooks`` — placed by their mmcv ``priority`` among the above (default NORMAL:
   right after the checkpoint hook), ties keep config order.
6. ``LoggerHook`` with its writers — last, so it sees the evaluation metrics of this step.
"""
from __future__ import annotations

from typing import Any, Mapping

from ocr_ds import registry
from ocr_ds.engine import dist
from ocr_ds.engine.hooks.base import PRIORITIES, Hook
from ocr_ds.engine.hooks.checkpoint import CheckpointHook
from ocr_ds.engine.hooks.evaluation import EvalHook
from ocr_ds.engine.hooks.logger import LoggerHook
from ocr_ds.engine.hooks.lr import LrUpdaterHook
from ocr_ds.engine.hooks.momentum import MomentumUpdaterHook
from ocr_ds.engine.hooks.timer import IterTimerHook
from ocr_ds.errors import UserError, bad_value


def _priority(value: Any, key: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100:
        return value
    if isinstance(value, str) and value.upper() in PRIORITIES:
        return PRIORITIES[value.upper()]
    raise bad_value(key, value, f"an integer 0-100 or one of {', '.join(PRIORITIES)}")


def _dict(cfg: Mapping, key: str) -> dict:
    value = cfg.get(key) or {}
    if not isinstance(value, Mapping):
        raise bad_value(key, value, "a dict")
    return dict(value)


def build_hooks(cfg: Mapping, *, schedule: Any, runner_by_epoch: bool, validate: bool,
                momentum_schedule: Any = None) -> list[Hook]:
    """The ordered hook list for this run (see the module docstring for the order). The
    schedules may be set on the lr / momentum hooks later (the loader's length decides them)."""
    hooks: list[Hook] = [LrUpdaterHook(schedule)]
    if cfg.get("momentum_config") is not None:
        hooks.append(MomentumUpdaterHook(momentum_schedule))

    ck = _dict(cfg, "checkpoint_config")
    ck.setdefault("by_epoch", runner_by_epoch)
    ck.pop("type", None)
    for name in ("interval", "max_keep_ckpts"):
        if name in ck and (not isinstance(ck[name], int) or isinstance(ck[name], bool)):
            raise bad_value(f"checkpoint_config.{name}", ck[name], "an integer")
    try:
        hooks.append(CheckpointHook(**ck))
    except TypeError as exc:
        raise UserError(f"checkpoint_config: {exc}") from None
    hooks.append(IterTimerHook())

    ev = _dict(cfg, "evaluation")
    if validate and cfg.get("data", {}).get("val") is not None:
        # MMOCR's train_detector sets by_epoch from the runner; an epoch-based run keeps a
        # config's by_epoch=False here (evaluate every N iterations: the CPU demos do), an
        # iteration-based run has no epochs to count (the config check notes the replacement)
        ev["by_epoch"] = ev.get("by_epoch", runner_by_epoch) and runner_by_epoch
        hooks.append(EvalHook(**ev))

    custom = cfg.get("custom_hooks") or []
    if not isinstance(custom, (list, tuple)):
        raise bad_value("custom_hooks", custom, "a list of dict(type=..., priority=...)")
    for i, spec in enumerate(custom):
        key = f"custom_hooks.{i}"
        if not isinstance(spec, Mapping):
            raise bad_value(key, spec, "a dict(type=..., priority=...)")
        spec = dict(spec)
        prio = _priority(spec.pop("priority", "NORMAL"), f"{key}.priority")
        hook = registry.build(registry.HOOKS, spec, key)
        hook.priority = prio
        hooks.append(hook)

    log = _dict(cfg, "log_config")
    interval = log.get("interval", 10)
    if not isinstance(interval, int) or interval <= 0:
        raise bad_value("log_config.interval", interval, "a positive integer")
    writers = []
    for i, spec in enumerate(log.get("hooks") or [dict(type="TextLoggerHook")]):
        if not isinstance(spec, Mapping):
            raise bad_value(f"log_config.hooks.{i}", spec, "a dict(type=...)")
        # built on every rank (a bad argument or a missing library stops them all alike);
        # only rank 0 writes
        writer = registry.build(registry.LOGGERS, spec, f"log_config.hooks.{i}")
        if dist.is_main():
            writers.append(writer)
    hooks.append(LoggerHook(writers, interval=interval, by_epoch=runner_by_epoch,
                            ignore_last=log.get("ignore_last", True)))
    # stable sort: built-ins keep their documented order, custom hooks slot in by priority
    hooks.sort(key=lambda h: h.priority)
    return hooks

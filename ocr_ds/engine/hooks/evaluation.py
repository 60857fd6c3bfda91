"""Evaluate on mmcv's schedule (``evaluation=dict(...)``) and keep the best weights.

Every rank runs the forward over its share of a padded sampler (so all ranks run the same
number of batches — ZeRO-3 gathers parameters in every forward and would hang otherwise); rank 0
computes the metrics and broadcasts them, so every rank takes the same save-best decision.
"""
from __future__ import annotations

import math
import os
from typing import Any

from ocr_ds.engine import checkpoint as ckpt
from ocr_ds.engine import dist
from ocr_ds.engine.hooks.base import PRIORITIES, Hook
from ocr_ds.engine.hooks.checkpoint import progress_meta
from ocr_ds.errors import UserError

# mmcv's rule inference keys (plus MMOCR's hmean/recall and 1-N.E.D, f1: mmcv's own list
# cannot infer MMOCR's metrics); `greater_keys` / `less_keys` replace them, as in mmcv
GREATER_KEYS = ("acc", "top", "AR@", "auc", "precision", "recall", "hmean", "mAP", "mDice",
                "mIoU", "mAcc", "aAcc", "N.E.D", "f1")
LESS_KEYS = ("loss",)
# arguments of mmcv's (Dist)EvalHook that are not the dataset's evaluate() arguments; the
# results are gathered through torch.distributed here, so gpu_collect and tmpdir change nothing
HOOK_ONLY_KEYS = ("interval", "by_epoch", "start", "save_best", "rule", "gpu_collect", "tmpdir",
                  "broadcast_bn_buffer", "out_dir", "less_keys", "greater_keys", "test_fn",
                  "file_client_args")


def infer_rule(key: str, greater_keys: Any = GREATER_KEYS, less_keys: Any = LESS_KEYS) -> str:
    """mmcv's ``EvalHook._init_rule``: an exact (case-insensitive) match of the greater keys,
    then of the less keys, then a greater key within ``key``, then a less key."""
    low, greater, less = key.lower(), [k.lower() for k in greater_keys], \
        [k.lower() for k in less_keys]
    for found, rule in ((low in greater, "greater"), (low in less, "less"),
                        (any(k in low for k in greater), "greater"),
                        (any(k in low for k in less), "less")):
        if found:
            return rule
    raise UserError(f"evaluation.rule: cannot infer whether {key!r} is better greater or less; "
                    "set evaluation.rule='greater' or 'less'")


def inference_keys(ev: Any) -> tuple[tuple, tuple]:
    """``(greater_keys, less_keys)`` of an ``evaluation`` dict: given ones replace the defaults
    (mmcv's EvalHook)."""
    return (_keys(ev.get("greater_keys"), "greater_keys", GREATER_KEYS),
            _keys(ev.get("less_keys"), "less_keys", LESS_KEYS))


def _keys(value: Any, name: str, default: tuple) -> tuple:
    if value is None:
        return default
    keys = (value,) if isinstance(value, str) else value
    if not (isinstance(keys, (list, tuple)) and keys and all(isinstance(k, str) for k in keys)):
        raise UserError(f"evaluation.{name}: expected None, a metric key or a list of them "
                        f"(got {value!r})")
    return tuple(keys)


def metric_value(metrics: dict[str, Any], key: str) -> float:
    """``metrics[key]``; a dotted key reads a nested one (NER's ``'all.f1-score'``)."""
    value: Any = metrics
    for part in [key] if key in metrics else key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise UserError(f"evaluation.save_best: {key!r} is not among the metrics "
                            f"{sorted(metrics)}")
        value = value[part]
    if isinstance(value, dict):
        raise UserError(f"evaluation.save_best: {key!r} is a group of metrics "
                        f"({', '.join(value)}); name one, e.g. '{key}.{next(iter(value))}'")
    return float(value)


class EvalHook(Hook):
    priority = PRIORITIES["LOW"]

    def __init__(self, interval: int = 1, by_epoch: bool = True, start: int | None = None,
                 save_best: str | None = None, rule: str | None = None, **metric_args: Any):
        if not isinstance(interval, int) or interval <= 0:
            raise UserError(f"evaluation.interval: expected a positive integer (got {interval!r})")
        if start is not None and (not isinstance(start, int) or start < 0):
            raise UserError(f"evaluation.start: expected None or an integer >= 0 (got {start!r})")
        if rule not in (None, "greater", "less"):
            raise UserError(f"evaluation.rule: expected None, 'greater' or 'less' (got {rule!r})")
        if save_best is not None and not isinstance(save_best, str):
            raise UserError(f"evaluation.save_best: expected None, 'auto' or a metric name (got {save_best!r})")
        self.interval, self.by_epoch, self.start = interval, by_epoch, start
        self.save_best, self.rule = save_best, rule
        self.greater_keys, self.less_keys = inference_keys(metric_args)
        self.broadcast_bn_buffer = metric_args.get("broadcast_bn_buffer", True)
        if not isinstance(self.broadcast_bn_buffer, bool):
            raise UserError(f"evaluation.broadcast_bn_buffer: expected True or False (got "
                            f"{self.broadcast_bn_buffer!r})")
        self.out_dir = metric_args.get("out_dir")
        if self.out_dir is not None and not isinstance(self.out_dir, str):
            raise UserError(f"evaluation.out_dir: expected None or a directory (got "
                            f"{self.out_dir!r})")
        self.root: str | None = None
        self.metric_args = {k: v for k, v in metric_args.items() if k not in HOOK_ONLY_KEYS}
        self.key: str | None = None if save_best in (None, "auto") else save_best
        self.best_score: float | None = None
        self.best_ckpt: str | None = None
        self.initial_flag = True

    def before_run(self, runner: Any) -> None:
        # mmcv: the best checkpoint goes to out_dir/<basename of work_dir>, else the work dir
        self.root = (os.path.join(self.out_dir, os.path.basename(os.path.normpath(
            runner.work_dir))) if self.out_dir else runner.work_dir)

    # mmcv: with `start` given, evaluate once before training when already past it
    def before_train_epoch(self, runner: Any) -> None:
        if self.by_epoch and self.initial_flag:
            if self.start is not None and runner.epoch >= self.start:
                self._evaluate(runner, f"epoch_{runner.epoch}")
            self.initial_flag = False

    def before_train_iter(self, runner: Any) -> None:
        if not self.by_epoch and self.initial_flag:
            if self.start is not None and runner.iter >= self.start:
                self._evaluate(runner, f"iter_{runner.iter}")
            self.initial_flag = False

    def _due(self, current: int) -> bool:
        if self.start is None:
            return current % self.interval == 0
        return current >= self.start and (current - self.start) % self.interval == 0

    def after_train_epoch(self, runner: Any) -> None:
        if self.by_epoch and self._due(runner.epoch + 1):
            self._evaluate(runner, f"epoch_{runner.epoch + 1}", after_epoch=True)

    def after_train_iter(self, runner: Any) -> None:
        if not self.by_epoch and self._due(runner.iter + 1):
            self._evaluate(runner, f"iter_{runner.iter + 1}", after_epoch=False)

    def _evaluate(self, runner: Any, current: str, after_epoch: bool = True) -> None:
        runner.check_finite()  # neither evaluate nor keep as best the weights of a NaN loss
        if self.broadcast_bn_buffer:  # mmcv's DistEvalHook: evaluate with rank 0's BN stats
            dist.broadcast_bn_buffers(runner.model)
        metrics = runner.evaluate(self.metric_args)
        runner.val_metrics = metrics
        if self.save_best is None or not metrics:
            return
        if self.key is None:  # 'auto': the first metric
            self.key = next(iter(metrics))
        score = metric_value(metrics, self.key)
        rule = self.rule or infer_rule(self.key, self.greater_keys, self.less_keys)
        better = (self.best_score is None or (score > self.best_score if rule == "greater"
                                              else score < self.best_score))
        if not better or math.isnan(score):
            return
        root = self.root or runner.work_dir
        tag = f"best_{self.key}_{current}"
        previous = self.best_ckpt
        self.best_score, self.best_ckpt = score, tag
        ckpt.save(runner.engine, root, tag, progress_meta(runner, after_epoch),
                  save_optimizer=False, update_latest=False)
        if dist.is_main() and previous and previous != tag:
            ckpt.remove(os.path.join(root, previous))
        runner.logger.info("Now best checkpoint is saved as %s (%s: %.4f)", tag, self.key, score)

    def state_dict(self) -> dict[str, Any]:
        return {"best_score": self.best_score, "best_ckpt": self.best_ckpt, "key": self.key}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_score = state.get("best_score")
        self.best_ckpt = state.get("best_ckpt")
        self.key = state.get("key") or self.key

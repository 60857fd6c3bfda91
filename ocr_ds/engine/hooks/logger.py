"""The one logging hook: every ``log_config.interval`` iterations it averages the buffered
values over the interval and over ranks, and hands the result to the writers (text/JSON log,
TensorBoard). Evaluation results are handed over right after the evaluation that made them.
A val phase of the workflow (:mod:`ocr_ds.engine.workflow`) ends with one ``val`` record of its
losses (mmcv's ``after_val_epoch``: each averaged over the whole phase, sample-weighted, then
over ranks), ``time``/``data_time`` averaged as in training.

All ranks take part in the averaging (an all-reduce, and the check for non-finite losses:
:meth:`~ocr_ds.engine.runner.Runner.check_finite`); only rank 0 has writers.
"""
from __future__ import annotations

import datetime
import resource
from collections import OrderedDict
from typing import Any, Sequence

import torch

from ocr_ds.engine import dist
from ocr_ds.engine.hooks.base import PRIORITIES, Hook
from ocr_ds.engine.runner import interval_means
from ocr_ds.engine.workflow import val_loss_means


def memory_meaning() -> str:
    """What :func:`peak_memory_mb` measures here, in words (logged once at the start)."""
    if torch.cuda.is_available():
        return ("peak CUDA memory allocated by tensors (torch.cuda.max_memory_allocated) since "
                "the start, MiB, largest rank")
    return ("peak resident memory of the process (ru_maxrss: also libraries, data and the "
            "allocator's cache) since the start, MiB, largest rank")


def peak_memory_mb() -> int:
    """Peak accelerator memory (CUDA) or, on the CPU, the process's peak resident set, in MiB
    (the largest over ranks, as mmcv reports it)."""
    if torch.cuda.is_available():
        mb = torch.cuda.max_memory_allocated() // (1024 * 1024)
    else:
        mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kB on Linux
    return int(dist.all_reduce_max(float(mb)))


class LoggerHook(Hook):
    # writers last: they see the evaluation metrics of this iteration/epoch
    priority = PRIORITIES["VERY_LOW"]

    def __init__(self, writers: Sequence[Any], interval: int = 10, ignore_last: bool = True,
                 by_epoch: bool = True):
        self.writers = list(writers)
        self.interval, self.ignore_last, self.by_epoch = interval, ignore_last, by_epoch
        self.time_sec_tot = 0.0
        self.start_iter = 0

    def before_run(self, runner: Any) -> None:
        self.start_iter = runner.iter
        runner.logger.info("memory: %s", memory_meaning())
        for w in self.writers:
            w.open(runner)

    def after_run(self, runner: Any) -> None:
        for w in self.writers:
            w.close()

    def _due(self, runner: Any) -> bool:
        if self.by_epoch and runner.by_epoch:
            if self.every_n_inner_iters(runner, self.interval):
                return True
            return self.end_of_epoch(runner) and not self.ignore_last
        return self.every_n_iters(runner, self.interval)

    def after_train_iter(self, runner: Any) -> None:
        if self._due(runner):
            self._log_train(runner)
        self._log_val(runner)

    def before_train_epoch(self, runner: Any) -> None:
        # mmcv's before_epoch: what an epoch left unlogged (ignore_last) is not carried into
        # the next epoch's first line
        runner.log_buffer.clear()

    def after_train_epoch(self, runner: Any) -> None:
        self._log_val(runner)

    def after_val_epoch(self, runner: Any) -> None:
        losses = val_loss_means(runner)
        times = dist.all_reduce_mean(interval_means(runner.val_buffer))
        runner.val_buffer.clear()
        # mmcv: the epoch is the training epochs done, the iteration the val batches; an
        # iteration-based run's record names the training iterations done
        record: "OrderedDict[str, Any]" = OrderedDict(
            mode="val", epoch=runner.epoch if runner.by_epoch else runner.epoch + 1,
            iter=runner.inner_iter + 1 if runner.by_epoch else runner.iter)
        record["lr"] = runner.current_lr()
        record["memory"] = peak_memory_mb()
        if "data_time" in times:
            record["data_time"] = times["data_time"]
        record.update(losses)
        if "time" in times:
            record["time"] = times["time"]
        for w in self.writers:
            w.write(runner, record)

    def _log_train(self, runner: Any) -> None:
        runner.check_finite()  # the ranks meet here anyway: stop on a NaN/inf loss first
        averaged = dist.all_reduce_mean(interval_means(runner.log_buffer))
        runner.log_buffer.clear()
        record: "OrderedDict[str, Any]" = OrderedDict(mode="train")
        record["epoch"] = runner.epoch + 1
        record["iter"] = runner.inner_iter + 1 if runner.by_epoch else runner.iter + 1
        record["lr"] = runner.current_lr()
        record["memory"] = peak_memory_mb()
        if "time" in averaged:
            self.time_sec_tot += averaged["time"] * self.interval
            avg = self.time_sec_tot / (runner.iter - self.start_iter + 1)
            record["eta"] = str(datetime.timedelta(seconds=int(avg * (runner.max_iters - runner.iter - 1))))
        record.update(averaged)
        for w in self.writers:
            w.write(runner, record)

    def _log_val(self, runner: Any) -> None:
        if runner.val_metrics is None:
            return
        record: "OrderedDict[str, Any]" = OrderedDict(mode="val", epoch=runner.epoch + 1,
                                                      iter=runner.inner_iter + 1 if runner.by_epoch
                                                      else runner.iter + 1)
        record.update(runner.val_metrics)
        runner.val_metrics = None
        for w in self.writers:
            w.write(runner, record)

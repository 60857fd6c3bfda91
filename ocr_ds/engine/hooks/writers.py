"""Log writers: mmcv's text log line and JSON log, and TensorBoard scalars (rank 0 only).

Text line (mmcv ``TextLoggerHook``)::

    Epoch [1][10/50]\tlr: 1.000e-03, eta: 0:01:02, time: 0.123, data_time: 0.010, memory: 312, loss_ctc: 1.2345, loss: 1.2345
    Epoch(val) [1][50]\tword_acc: 0.9100, ...

``memory`` is, in MiB and for the largest rank, the peak CUDA memory allocated by tensors
(``torch.cuda.max_memory_allocated``) on GPUs, or on CPU ranks the process's peak resident set
(``ru_maxrss``: everything the process holds, libraries and data included); the log says which
at the start.
"""
from __future__ import annotations

import json
import os
import shutil
from typing import Any, Mapping, Sequence

from ocr_ds.engine.hooks.base import Hook
from ocr_ds.errors import UserError

_NOT_ITEMS = {"mode", "epoch", "iter", "lr", "time", "data_time", "memory", "eta"}


def format_record(record: Mapping[str, Any], iters_per_epoch: int, max_iters: int,
                  by_epoch: bool) -> str:
    """The mmcv text-log line for one record."""
    if record["mode"] == "train":
        head = (f"Epoch [{record['epoch']}][{record['iter']}/{iters_per_epoch}]\t" if by_epoch
                else f"Iter [{record['iter']}/{max_iters}]\t")
        head += f"lr: {record['lr']:.3e}, "
        if "time" in record:
            head += f"eta: {record['eta']}, "
            head += f"time: {record['time']:.3f}, data_time: {record['data_time']:.3f}, "
            head += f"memory: {record['memory']}, "
    else:
        head = (f"Epoch({record['mode']}) [{record['epoch']}][{record['iter']}]\t" if by_epoch
                else f"Iter({record['mode']}) [{record['iter']}]\t")
    items = []
    for name, val in record.items():
        if name in _NOT_ITEMS:
            continue
        items.append(f"{name}: {val:.4f}" if isinstance(val, float) else f"{name}: {val}")
    return head + ", ".join(items)


def _round(x: Any) -> Any:
    return round(x, 5) if isinstance(x, float) else x


def work_dir_files(work_dir: str, suffixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(path, path relative to work_dir)`` of the files under ``work_dir`` whose names end
    in one of ``suffixes`` (mmcv's ``scandir(work_dir, suffixes, recursive=True)``), sorted."""
    found = []
    for root, _, files in sorted(os.walk(work_dir)):
        for name in sorted(files):
            if name.endswith(suffixes):
                path = os.path.join(root, name)
                found.append((path, os.path.relpath(path, work_dir)))
    return found


class TextLoggerHook:
    """``work_dir/<timestamp>.log`` (through the logger) and ``<timestamp>.log.json``, with
    mmcv's ``Exp name: <config file>`` line every ``interval_exp_name`` iterations and at each
    epoch's end; with ``out_dir`` the work dir's ``out_suffix`` files are copied to
    ``out_dir/<work dir name>`` when the run ends (removed locally with ``keep_local=False``)."""

    def __init__(self, interval: int | None = None, by_epoch: bool = True,
                 ignore_last: bool = True, reset_flag: bool = False,
                 interval_exp_name: int = 1000, out_dir: str | None = None,
                 out_suffix: str | Sequence[str] = (".log.json", ".log", ".py"),
                 keep_local: bool = True, file_client_args: Mapping[str, Any] | None = None):
        if out_dir is None and file_client_args is not None:
            raise UserError("file_client_args: expected None without out_dir (mmcv's rule) "
                            f"(got {dict(file_client_args)!r})")
        if file_client_args is not None and file_client_args.get("backend", "disk") != "disk":
            raise UserError(f"file_client_args: expected None or dict(backend='disk'): logs "
                            f"are copied to a local or mounted out_dir here (got "
                            f"{dict(file_client_args)!r})")
        self.by_epoch, self.interval_exp_name = by_epoch, interval_exp_name
        self.out_dir, self.keep_local = out_dir, keep_local
        self.out_suffix = (out_suffix,) if isinstance(out_suffix, str) else tuple(out_suffix)
        self.json_path: str | None = None
        self.runner: Any = None

    def open(self, runner: Any) -> None:
        self.runner = runner
        self.json_path = os.path.join(runner.work_dir, f"{runner.timestamp}.log.json")
        if runner.meta is not None and not os.path.exists(self.json_path):
            with open(self.json_path, "a") as f:
                f.write(json.dumps(runner.meta, default=str) + "\n")
        if self.out_dir is not None:
            self.out_dir = os.path.join(self.out_dir, os.path.basename(
                os.path.normpath(runner.work_dir)))
            runner.logger.info("Text logs will be saved to %s by disk after the training "
                               "process.", self.out_dir)

    def write(self, runner: Any, record: Mapping[str, Any]) -> None:
        by_epoch = self.by_epoch and runner.by_epoch
        if (runner.meta or {}).get("exp_name") is not None and (
                Hook.every_n_iters(runner, self.interval_exp_name)
                or (by_epoch and Hook.end_of_epoch(runner))):
            runner.logger.info("Exp name: %s", runner.meta["exp_name"])
        runner.logger.info(format_record(record, runner.iters_per_epoch, runner.max_iters,
                                         by_epoch))
        out = {k: _round(v) for k, v in record.items() if k != "eta"}
        with open(self.json_path, "a") as f:
            f.write(json.dumps(out) + "\n")

    def close(self) -> None:
        if self.out_dir is None or self.runner is None:
            return
        for local, relative in work_dir_files(self.runner.work_dir, self.out_suffix):
            target = os.path.join(self.out_dir, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copyfile(local, target)
            self.runner.logger.info("The file %s has been uploaded to %s.", local, target)
            if not self.keep_local:
                os.remove(local)
                self.runner.logger.info("%s was removed due to the `self.keep_local=False`",
                                        local)


def current_momentum(optimizer: Any) -> float:
    """mmcv's ``runner.current_momentum()`` of the first param group: ``momentum``, else
    ``betas[0]``, else 0."""
    group = optimizer.param_groups[0]
    if "momentum" in group:
        return float(group["momentum"])
    return float(group["betas"][0]) if "betas" in group else 0.0


# not logged values of a record (mmcv's log buffer has no memory, eta, epoch or iteration; its
# loggers skip time and data_time)
_NOT_TAGS = {"mode", "epoch", "iter", "lr", "eta", "memory", "time", "data_time"}


def loggable_tags(runner: Any, record: Mapping[str, Any],
                  allow_text: bool = False) -> dict[str, Any]:
    """mmcv's ``LoggerHook.get_loggable_tags``: ``<mode>/<key>`` for each logged value (numbers;
    strings with ``allow_text``), then ``learning_rate`` and ``momentum`` of the first group."""
    tags: dict[str, Any] = {}
    for name, val in record.items():
        if name in _NOT_TAGS or isinstance(val, bool):
            continue
        if isinstance(val, (int, float)) or (allow_text and isinstance(val, str)):
            tags[f"{record['mode']}/{name}"] = val
    tags["learning_rate"] = runner.current_lr()
    tags["momentum"] = current_momentum(runner.optimizer)
    return tags


class TensorboardLoggerHook:
    """``work_dir/tf_logs`` (or ``log_dir``): mmcv's tags (:func:`loggable_tags`: ``train/<key>``,
    ``val/<metric>``, ``learning_rate``, ``momentum``); step = global iteration + 1."""

    def __init__(self, log_dir: str | None = None, interval: int | None = None, **kwargs: Any):
        self.log_dir = log_dir
        self.writer = None

    def open(self, runner: Any) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

        self.writer = SummaryWriter(self.log_dir or os.path.join(runner.work_dir, "tf_logs"))

    def write(self, runner: Any, record: Mapping[str, Any]) -> None:
        step = runner.iter + 1
        for tag, val in loggable_tags(runner, record, allow_text=True).items():
            if isinstance(val, str):
                self.writer.add_text(tag, val, step)
            else:
                self.writer.add_scalar(tag, val, step)
        self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

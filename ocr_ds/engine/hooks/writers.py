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
from typing import Any, Mapping

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


class TextLoggerHook:
    """``work_dir/<timestamp>.log`` (through the logger) and ``<timestamp>.log.json``."""

    def __init__(self, interval: int | None = None, by_epoch: bool = True, **kwargs: Any):
        self.by_epoch = by_epoch
        self.json_path: str | None = None

    def open(self, runner: Any) -> None:
        self.json_path = os.path.join(runner.work_dir, f"{runner.timestamp}.log.json")
        if runner.meta is not None and not os.path.exists(self.json_path):
            with open(self.json_path, "a") as f:
                f.write(json.dumps(runner.meta, default=str) + "\n")

    def write(self, runner: Any, record: Mapping[str, Any]) -> None:
        runner.logger.info(format_record(record, runner.iters_per_epoch, runner.max_iters,
                                         self.by_epoch and runner.by_epoch))
        out = {k: _round(v) for k, v in record.items() if k != "eta"}
        with open(self.json_path, "a") as f:
            f.write(json.dumps(out) + "\n")

    def close(self) -> None: ...


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

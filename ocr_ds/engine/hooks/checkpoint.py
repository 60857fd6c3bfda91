"""Save checkpoints on mmcv's schedule (``checkpoint_config``), keep only the newest N, and save
one more when the run is asked to stop (preemption, the launcher gone).

A stop checkpoint is named as the schedule would name one there (``iter_N`` inside an epoch,
``epoch_N`` at its end), always holds the optimizer (it exists to be resumed), is marked
``"stop"`` in its metadata, and is removed once a newer scheduled checkpoint is complete."""
from __future__ import annotations

import os
from typing import Any

from ocr_ds.engine import checkpoint as ckpt
from ocr_ds.engine import dist
from ocr_ds.engine.hooks.base import PRIORITIES, Hook


def progress_meta(runner: Any, after_epoch: bool) -> dict[str, Any]:
    """Where a checkpoint taken now resumes: completed epochs/iters and the position in the epoch."""
    if after_epoch:
        epoch, it, inner = runner.epoch + 1, runner.iter, 0
    else:
        epoch, it, inner = runner.epoch, runner.iter + 1, runner.inner_iter + 1
        if inner >= runner.iters_per_epoch:
            epoch, inner = epoch + 1, 0
    return {"epoch": epoch, "iter": it, "inner_iter": inner,
            "samples_per_gpu": runner.train_loader.batch_size,
            "seed": runner.meta.get("seed"),
            "hooks": {type(h).__name__: h.state_dict() for h in runner.hooks},
            "config": runner.cfg.to_dict() if hasattr(runner.cfg, "to_dict") else dict(runner.cfg)}


class CheckpointHook(Hook):
    priority = PRIORITIES["NORMAL"]

    def __init__(self, interval: int = -1, by_epoch: bool = True, save_optimizer: bool = True,
                 out_dir: str | None = None, max_keep_ckpts: int = -1, save_last: bool = True,
                 **kwargs: Any):
        self.interval, self.by_epoch = interval, by_epoch
        self.save_optimizer, self.out_dir = save_optimizer, out_dir
        self.max_keep_ckpts, self.save_last = max_keep_ckpts, save_last
        self.root: str | None = None
        self.saved_at: tuple[int, bool] | None = None  # (iter, with optimizer) of the last save

    def before_run(self, runner: Any) -> None:
        # mmcv: out_dir/<basename of work_dir>
        self.root = (os.path.join(self.out_dir, os.path.basename(os.path.normpath(runner.work_dir)))
                     if self.out_dir else runner.work_dir)

    def after_train_epoch(self, runner: Any) -> None:
        if not self.by_epoch:
            return
        last = runner.by_epoch and runner.epoch + 1 >= runner.max_epochs
        if self.every_n_epochs(runner, self.interval) or (self.save_last and last):
            self.save(runner, f"epoch_{runner.epoch + 1}", after_epoch=True)

    def after_train_iter(self, runner: Any) -> None:
        if self.by_epoch:
            return
        if self.every_n_iters(runner, self.interval) or (self.save_last and self.is_last_iter(runner)):
            self.save(runner, f"iter_{runner.iter + 1}", after_epoch=False)

    def on_stop(self, runner: Any, after_epoch: bool) -> None:
        done = runner.iter if after_epoch else runner.iter + 1
        if self.saved_at == (done, True):  # the schedule saved this very point already
            runner.stop_checkpoint = os.path.join(self.root, ckpt.read_latest(self.root) or "")
            return
        tag = f"epoch_{runner.epoch + 1}" if after_epoch else f"iter_{done}"
        meta = dict(progress_meta(runner, after_epoch), stop=runner.stop_reason)
        runner.stop_checkpoint = ckpt.save(runner.engine, self.root, tag, meta, save_optimizer=True)
        runner.logger.info("Saving checkpoint at %s (stopping: %s)", tag, runner.stop_reason)

    def save(self, runner: Any, tag: str, after_epoch: bool) -> None:
        runner.check_finite()  # never save the weights a NaN/inf loss produced
        ckpt.save(runner.engine, self.root, tag, progress_meta(runner, after_epoch),
                  save_optimizer=self.save_optimizer)
        self.saved_at = (runner.iter if after_epoch else runner.iter + 1, self.save_optimizer)
        runner.logger.info("Saving checkpoint at %s", tag)
        if dist.is_main():
            kind = "epoch" if self.by_epoch else "iter"
            tags = ckpt.complete_checkpoints(self.root, rf"{kind}_\d+")
            old = tags[: max(0, len(tags) - self.max_keep_ckpts)] if self.max_keep_ckpts > 0 else []
            if self.save_optimizer:  # stop checkpoints older than this resumable one
                old += [t for t in ckpt.complete_checkpoints(self.root)
                        if ckpt.read_meta(os.path.join(self.root, t)).get("stop")
                        and ckpt.read_meta(os.path.join(self.root, t)).get("iter", 0) < self.saved_at[0]]
            for t in dict.fromkeys(old):
                if t != tag:
                    ckpt.remove(os.path.join(self.root, t))
        dist.barrier()

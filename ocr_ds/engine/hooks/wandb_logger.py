"""mmcv's ``WandbLoggerHook``: the logged values to Weights & Biases (rank 0 only).

``log_config = dict(interval=50, hooks=[dict(type='TextLoggerHook'),
dict(type='WandbLoggerHook', init_kwargs=dict(project='ocr'))])``. What mmcv 1.7.2's hook does:
``wandb.init(**init_kwargs)`` and ``wandb.define_metric`` for ``define_metric_cfg`` at the
start; at every logging (and evaluation) the tags mmcv's ``LoggerHook.get_loggable_tags`` makes
(``train/<loss>``, ``val/<metric>``, ``learning_rate``, ``momentum``) with ``step`` = iteration
+ 1 (``with_step=False``: as ``global_step`` in the row instead); at the end an artifact of the
work dir's files ending in ``out_suffix`` and ``wandb.finish()``.

One difference: with ``with_step`` (the default) a step's row is left open (``commit=False``)
and wandb commits it when a later step is logged or the run ends, so evaluation results logged
at the step of a training line join that row. mmcv commits every row (``commit=True``), and
wandb then drops anything logged again at that step: an iteration-based run's evaluation.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ocr_ds.engine.hooks.writers import loggable_tags, work_dir_files
from ocr_ds.errors import UserError

SUMMARIES = ("min", "max", "mean", "best", "last", "none")


class WandbLoggerHook:
    def __init__(self, init_kwargs: Mapping[str, Any] | None = None, interval: int = 10,
                 ignore_last: bool = True, reset_flag: bool = False, commit: bool = True,
                 by_epoch: bool = True, with_step: bool = True, log_artifact: bool = True,
                 out_suffix: str | Sequence[str] = (".log.json", ".log", ".py"),
                 define_metric_cfg: Mapping[str, str] | None = None):
        try:
            import wandb
        except ImportError:
            raise UserError("WandbLoggerHook: needs the wandb package (pip install wandb, or "
                            "ocr_ds's 'loggers' extra)") from None
        self.wandb = wandb
        # (the argument types are checked from the annotations when a config builds it)
        for metric, summary in dict(define_metric_cfg or {}).items():
            if summary not in SUMMARIES:  # mmcv warns "will be skipped", then passes it on
                raise UserError(f"define_metric_cfg: {metric!r}: expected one of "
                                f"{', '.join(map(repr, SUMMARIES))} (got {summary!r})")
        self.init_kwargs = dict(init_kwargs or {})
        self.commit, self.with_step, self.log_artifact = commit, with_step, log_artifact
        self.out_suffix = (out_suffix,) if isinstance(out_suffix, str) else tuple(out_suffix)
        self.define_metric_cfg = dict(define_metric_cfg or {})
        self.work_dir: str | None = None

    def open(self, runner: Any) -> None:
        self.work_dir = runner.work_dir
        self.wandb.init(**self.init_kwargs)
        for metric, summary in self.define_metric_cfg.items():
            self.wandb.define_metric(metric, summary=summary)

    def write(self, runner: Any, record: Mapping[str, Any]) -> None:
        tags = loggable_tags(runner, record)
        step = runner.iter + 1
        if self.with_step:
            self.wandb.log(tags, step=step, commit=False)
        else:
            tags["global_step"] = step
            self.wandb.log(tags, commit=self.commit)

    def close(self) -> None:
        if self.log_artifact and self.work_dir is not None:
            artifact = self.wandb.Artifact(name="artifacts", type="model")
            for path, relative in work_dir_files(self.work_dir, self.out_suffix):
                artifact.add_file(path, name=relative)
            self.wandb.log_artifact(artifact)
        self.wandb.finish()

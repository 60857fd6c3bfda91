"""Ref side (mmcv 1.7.2 in the MMOCR 0.6.3 venv): mmcv's own ``EpochBasedRunner.run`` /
``IterBasedRunner.run`` going through a ``workflow``, with a tiny model and a hook that records
every call.

The loaders are given in the workflow's order (mmcv pairs ``data_loaders[i]`` with
``workflow[i]``); their samples are ``{'idx': i}`` (train: 0, 1, ...; val: 100, 101, ...) in
order, one per batch, so the record shows which batch each step ran. The model records for each
step its mode, the batch, whether it was in training mode and whether autograd was on.
mmcv's ``time.sleep`` calls (2 s per epoch) are skipped.
"""
import logging
import tempfile
import time
import types

import torch
from mmcv.runner import EpochBasedRunner, Hook, IterBasedRunner
from mmcv.runner import epoch_based_runner, iter_based_runner

STAGES = ("before_train_epoch", "before_train_iter", "after_train_iter", "after_train_epoch",
          "before_val_epoch", "before_val_iter", "after_val_iter", "after_val_epoch")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.steps = []

    def _record(self, mode, data):
        self.steps.append((mode, data["idx"].tolist(), self.training, torch.is_grad_enabled()))
        return {}

    def train_step(self, data, optimizer, **kwargs):
        return self._record("train", data)

    def val_step(self, data, optimizer=None, **kwargs):
        return self._record("val", data)


class Recorder(Hook):
    def __init__(self):
        self.calls = []


def _recording(stage):
    def call(self, runner):
        self.calls.append((stage, runner.mode, runner.epoch, runner.iter, runner.inner_iter))
    return call


for _stage in STAGES:
    setattr(Recorder, _stage, _recording(_stage))


def _loader(first, n):
    return torch.utils.data.DataLoader([{"idx": first + i} for i in range(n)], batch_size=1)


def run(workflow, by_epoch, limit, n_train, n_val):
    """mmcv's run of ``workflow`` (a list of [mode, count]) for ``limit`` epochs/iterations:
    ``(hook calls, model steps)``."""
    workflow = [tuple(flow) for flow in workflow]
    loaders = [_loader(0, n_train) if mode == "train" else _loader(100, n_val)
               for mode, _ in workflow]
    model = Model()
    kind = EpochBasedRunner if by_epoch else IterBasedRunner
    length = dict(max_epochs=limit) if by_epoch else dict(max_iters=limit)
    runner = kind(model, work_dir=tempfile.mkdtemp(), logger=logging.getLogger("ref"), **length)
    recorder = Recorder()
    runner.register_hook(recorder)
    no_sleep = types.SimpleNamespace(sleep=lambda s: None, time=time.time)
    saved = epoch_based_runner.time, iter_based_runner.time
    epoch_based_runner.time = iter_based_runner.time = no_sleep
    try:
        runner.run(loaders, workflow)
    finally:
        epoch_based_runner.time, iter_based_runner.time = saved
    return recorder.calls, model.steps


def run_cases(cases):
    return [run(**case) for case in cases]

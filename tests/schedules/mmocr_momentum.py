"""Ref side (mmcv 1.7.2 in the MMOCR 0.6.3 venv): mmcv's own momentum hooks, built from a
``momentum_config`` by mmcv's ``BaseRunner.register_momentum_hook`` and driven by a minimal
runner in the order mmcv's runners call them, on real torch optimizers.

``EpochBasedRunner.run``: ``max_iters = max_epochs * len(loader)``, ``before_run``, then per
epoch ``before_train_epoch`` and per iteration ``before_train_iter`` (``iter`` counted over the
run). ``IterBasedRunner.run``: ``before_run``, then ``before_train_iter`` per iteration; it never
calls ``before_train_epoch``. A resume (mmcv's ``runner.resume``) loads the optimizer's state
(param groups included, so ``initial_momentum``) into a fresh optimizer and sets ``epoch`` /
``iter`` before ``run``, which calls ``before_run`` on a freshly built hook.
"""
import os
import sys

from mmcv.runner import BaseRunner

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schedule_replay import (current_momenta, momentum_groups,  # noqa: E402 (shared, torch only)
                             momentum_optimizer)


class Runner:
    """What the momentum hooks read of a runner."""

    def __init__(self, optimizer, max_epochs, max_iters):
        self.optimizer = optimizer
        self.max_epochs = max_epochs
        self.max_iters = max_iters
        self.epoch = 0
        self.iter = 0
        self._hooks = []

    def register_hook(self, hook, priority="NORMAL"):
        BaseRunner.register_hook(self, hook, priority)

    def register_momentum_hook(self, config):  # mmcv's naming: '<Policy>MomentumUpdaterHook'
        BaseRunner.register_momentum_hook(self, config)

    def call(self, stage):
        for hook in self._hooks:
            getattr(hook, stage)(self)


def drive(runner, ipe, stop):
    """Run from ``runner.epoch`` / ``runner.iter`` up to global iteration ``stop`` (exclusive);
    the param groups' momentum before each iteration."""
    out = []
    runner.call("before_run")
    if runner.max_epochs is None:  # IterBasedRunner
        while runner.iter < stop:
            runner.epoch = runner.iter // ipe
            runner.call("before_train_iter")
            out.append(current_momenta(runner.optimizer))
            runner.iter += 1
        return out
    while runner.iter < stop:
        runner.call("before_train_epoch")
        for _ in range(ipe):
            runner.call("before_train_iter")
            out.append(current_momenta(runner.optimizer))
            runner.iter += 1
        runner.epoch += 1
    return out


def run_case(case):
    """``{'curve': [...], 'groups': [...]}``; with ``case['resume_at']`` the run stops there and
    a fresh runner, hook and optimizer resume it."""
    max_epochs, ipe = case["max_epochs"], case["ipe"]
    max_iters = case["max_iters"] if max_epochs is None else max_epochs * ipe
    stop = case.get("resume_at") or max_iters
    opt = momentum_optimizer(case["optimizer"], case["momenta"])
    runner = Runner(opt, max_epochs, max_iters)
    runner.register_momentum_hook(dict(case["config"]))
    curve = drive(runner, ipe, stop)
    if stop < max_iters:
        state = opt.state_dict()
        opt = momentum_optimizer(case["optimizer"], case["momenta"])
        opt.load_state_dict(state)
        resumed = Runner(opt, max_epochs, max_iters)
        resumed.epoch, resumed.iter = runner.epoch, runner.iter
        resumed.register_momentum_hook(dict(case["config"]))
        curve += drive(resumed, ipe, max_iters)
    return dict(curve=curve, groups=momentum_groups(opt))


def run_cases(cases):
    return [run_case(c) for c in cases]


def refused(configs):
    """The exception class name mmcv raises building each config's hook (None: built)."""
    out = []
    for config in configs:
        try:
            Runner(None, 1, 1).register_momentum_hook(dict(config))
        except Exception as exc:  # noqa: BLE001 -- which one is the answer
            out.append(type(exc).__name__)
        else:
            out.append(None)
    return out

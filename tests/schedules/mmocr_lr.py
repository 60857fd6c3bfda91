"""Ref side (mmcv 1.7.2 in the MMOCR 0.6.3 venv): mmcv's own lr hooks, registered from an
``lr_config`` by the runner's own ``register_training_hooks`` (MMOCR's ``train_detector`` calls
it: ``register_lr_hook``'s name rule, and IterBasedRunner's ``lr_config.setdefault('by_epoch',
False)``), then driven in the order mmcv's runners call them, on real torch optimizers.

The runners are mmcv's ``EpochBasedRunner`` / ``IterBasedRunner`` classes without their
``__init__`` (no model, logger or work_dir): ``epoch``, ``iter``, ``max_epochs``, ``max_iters``
are mmcv's own properties over ``_epoch`` ... Their ``run`` is not used (EpochBasedRunner sleeps
2 s per epoch); the loops below are its order. ``EpochBasedRunner.run``: ``max_iters =
max_epochs * len(loader)``, ``before_run``, then per epoch ``before_train_epoch`` (after setting
``data_loader``, which ``warmup_by_epoch`` reads) and per iteration ``before_train_iter``.
``IterBasedRunner.run``: ``before_run``, ``before_epoch`` once, then ``before_train_iter`` per
iteration; never ``before_train_epoch``. A resume (mmcv's ``runner.resume``) loads the
optimizer's state (param groups included, so ``initial_lr``) into a fresh optimizer and sets
``epoch`` / ``iter`` before ``run``, which calls ``before_run`` on a freshly built hook.
"""
import os
import sys

from mmcv.runner import EpochBasedRunner, IterBasedRunner
from mmcv.runner.hooks import LrUpdaterHook

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from schedule_replay import current_lrs, lr_groups, lr_optimizer  # noqa: E402 (shared, torch only)


class _State:
    """What the lr hooks read of a runner."""

    def __init__(self, optimizer, max_epochs, max_iters, ipe):  # noqa: super() not called
        self.optimizer = optimizer
        self._max_epochs, self._max_iters = max_epochs, max_iters
        self._epoch = self._iter = 0
        self._hooks = []
        self.data_loader = range(ipe)

    def call(self, stage):
        for hook in self._hooks:  # not the IterTimerHook register_training_hooks adds too
            if isinstance(hook, LrUpdaterHook):
                getattr(hook, stage)(self)


class EpochRunner(_State, EpochBasedRunner):
    pass


class IterRunner(_State, IterBasedRunner):
    pass


def runner(case, opt):
    if case["max_epochs"] is None:
        made = IterRunner(opt, None, case["max_iters"], case["ipe"])
    else:
        made = EpochRunner(opt, case["max_epochs"], case["max_epochs"] * case["ipe"], case["ipe"])
    made.register_training_hooks(dict(case["config"]))  # a copy: register_lr_hook pops 'policy'
    return made


def drive(run, stop):
    """Run from ``run.epoch`` / ``run.iter`` up to global iteration ``stop`` (exclusive); the
    param groups' lr before each iteration."""
    out, ipe = [], len(run.data_loader)
    run.call("before_run")
    if isinstance(run, IterRunner):
        run.call("before_epoch")
        while run.iter < stop:
            run._epoch = run.iter // ipe  # the IterLoader's count; no iteration-based lr reads it
            run.call("before_train_iter")
            out.append(current_lrs(run.optimizer))
            run._iter += 1
        return out
    while run.iter < stop:
        run.call("before_train_epoch")
        for _ in range(ipe):
            run.call("before_train_iter")
            out.append(current_lrs(run.optimizer))
            run._iter += 1
        run._epoch += 1
    return out


def run_case(case):
    """``{'curve': [...], 'groups': [...]}``; with ``case['resume_at']`` the run stops there and
    a fresh runner, hook and optimizer resume it."""
    opt = lr_optimizer(case["optimizer"], case["lrs"])
    first = runner(case, opt)
    stop = case.get("resume_at") or first.max_iters
    curve = drive(first, stop)
    if stop < first.max_iters:
        state = opt.state_dict()
        opt = lr_optimizer(case["optimizer"], case["lrs"])
        opt.load_state_dict(state)
        resumed = runner(case, opt)
        resumed._epoch, resumed._iter = first.epoch, first.iter
        curve += drive(resumed, resumed.max_iters)
    return dict(curve=curve, groups=lr_groups(opt))


def run_cases(cases):
    return [run_case(c) for c in cases]


def refused(cases):
    """Per case: None when mmcv builds the hook and runs the whole run through it, else
    ``(stage, exception class name)``, stage 'build' (registering the hook) or 'run'."""
    out = []
    for case in cases:
        opt = lr_optimizer("SGD", [0.1])
        try:
            made = runner(case, opt)
        except Exception as exc:  # noqa: BLE001 -- which one is the answer
            out.append(("build", type(exc).__name__))
            continue
        try:
            drive(made, made.max_iters)
        except Exception as exc:  # noqa: BLE001
            out.append(("run", type(exc).__name__))
        else:
            out.append(None)
    return out

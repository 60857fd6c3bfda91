"""Whole runs against a replay of mmcv 1.x's stateful ``LrUpdaterHook``.

``MmcvHook`` below re-implements, in the test, what mmcv's hook does to a param group: it keeps
``regular_lr`` as state, sets it in ``before_train_epoch`` (by_epoch) or ``before_train_iter``,
resolves ``warmup_by_epoch`` on the first epoch, warms up while ``iter < W`` and restores the
regular lr at ``iter == W``. ``EpochRunner``/``IterRunner`` call the hooks in the order mmcv's
runners do (IterBasedRunner never calls ``before_train_epoch``). The lr recorded before each
iteration must equal ``LrSchedule.lr`` exactly (``==``, not approx): same arithmetic, same floats.
"""
from math import cos, pi

import pytest

from ocr_ds.schedules import LrSchedule


def _cos(start, end, factor, weight=1.0):
    return end + 0.5 * weight * (start - end) * (cos(pi * factor) + 1)


def _lin(start, end, factor):
    return start + (end - start) * factor


class MmcvHook:
    """The stateful hook: the policy's get_lr plus mmcv's before_* bookkeeping."""

    def __init__(self, policy, by_epoch=True, warmup=None, warmup_iters=0, warmup_ratio=0.1,
                 warmup_by_epoch=False, **args):
        self.policy, self.args, self.by_epoch = policy, args, by_epoch
        self.warmup, self.warmup_ratio = warmup, warmup_ratio
        self.warmup_epochs = warmup_iters if warmup_by_epoch else None
        self.warmup_iters = None if warmup_by_epoch else warmup_iters
        self.regular_lr = None

    # --- the policies, as mmcv's get_lr(runner, base_lr) -------------------------------------
    def get_lr(self, runner, base_lr):
        a = self.args
        p = runner.epoch if self.by_epoch else runner.iter
        big_p = runner.max_epochs if self.by_epoch else runner.max_iters
        if self.policy == "poly":
            coeff = (1 - p / big_p) ** a.get("power", 1.0)
            return (base_lr - a.get("min_lr", 0.0)) * coeff + a.get("min_lr", 0.0)
        if self.policy == "step":
            exp = len(a["step"])
            for i, s in enumerate(a["step"]):
                if p < s:
                    exp = i
                    break
            return max(base_lr * a.get("gamma", 0.1) ** exp, a.get("min_lr", 0.0))
        if self.policy == "FlatCosineAnnealing":
            start = round(big_p * a.get("start_percent", 0.75))
            if p - start < 0:
                return base_lr
            return _cos(base_lr, base_lr * a["min_lr_ratio"], (p - start) / (big_p - start))
        if self.policy == "CosineRestart":
            cumulative = [sum(a["periods"][:i + 1]) for i in range(len(a["periods"]))]
            idx = next(i for i, c in enumerate(cumulative) if p < c)
            restart = 0 if idx == 0 else cumulative[idx - 1]
            alpha = min((p - restart) / a["periods"][idx], 1)
            return _cos(base_lr, a["min_lr"], alpha, a["restart_weights"][idx])
        if self.policy == "cyclic":
            per = runner.max_iters // a["cyclic_times"]
            up = int(a["step_ratio_up"] * per)
            hi, lo = a["target_ratio"]
            scale = a["gamma"] ** (runner.iter // per)
            cur = runner.iter % per
            for start, end, s_ratio, e_ratio in ((0, up, 1, hi), (up, per, hi, lo)):
                if start <= cur < end:
                    if start == 0:
                        e_ratio = 1 - scale + e_ratio * scale
                    else:
                        s_ratio = 1 - scale + s_ratio * scale
                    return _cos(base_lr * s_ratio, base_lr * e_ratio, (cur - start) / (end - start))
        if self.policy == "OneCycle":
            t, pct, div = runner.max_iters, a["pct_start"], a["div_factor"]
            phases = [(float(pct * t) - 1, 1, div), (float(2 * pct * t) - 2, div, 1),
                      (t - 1, 1, 1 / a["final_div_factor"])]
            start = 0
            for end, s_mul, e_mul in phases:
                if runner.iter <= end:
                    return _lin(base_lr * s_mul, base_lr * e_mul, (runner.iter - start) / (end - start))
                start = end
        raise AssertionError(self.policy)

    # --- mmcv's bookkeeping --------------------------------------------------------------------
    def before_run(self, runner):
        if self.policy == "OneCycle":
            runner.group["initial_lr"] = self.args["max_lr"] / self.args["div_factor"]
        runner.group.setdefault("initial_lr", runner.group["lr"])
        self.base_lr = runner.group["initial_lr"]

    def warmup_lr(self, cur_iter):
        if self.warmup == "constant":
            return self.regular_lr * self.warmup_ratio
        if self.warmup == "linear":
            return self.regular_lr * (1 - (1 - cur_iter / self.warmup_iters) * (1 - self.warmup_ratio))
        return self.regular_lr * self.warmup_ratio ** (1 - cur_iter / self.warmup_iters)

    def before_train_epoch(self, runner):
        if self.warmup_iters is None:
            self.warmup_iters = self.warmup_epochs * runner.epoch_len
        if not self.by_epoch:
            return
        self.regular_lr = self.get_lr(runner, self.base_lr)
        runner.group["lr"] = self.regular_lr

    def before_train_iter(self, runner):
        cur = runner.iter
        if not self.by_epoch:
            self.regular_lr = self.get_lr(runner, self.base_lr)
            if self.warmup is None or cur >= self.warmup_iters:
                runner.group["lr"] = self.regular_lr
            else:
                runner.group["lr"] = self.warmup_lr(cur)
        else:
            if self.warmup is None or cur > self.warmup_iters:
                return
            if cur == self.warmup_iters:
                runner.group["lr"] = self.regular_lr
            else:
                runner.group["lr"] = self.warmup_lr(cur)


class EpochRunner:
    def __init__(self, lr, max_epochs, epoch_len):
        self.group = {"lr": lr}
        self.max_epochs, self.epoch_len = max_epochs, epoch_len
        self.max_iters = max_epochs * epoch_len
        self.epoch = self.iter = 0

    def run(self, hook):
        seen = []
        hook.before_run(self)
        for self.epoch in range(self.max_epochs):
            hook.before_train_epoch(self)
            for _ in range(self.epoch_len):
                hook.before_train_iter(self)
                seen.append((self.epoch, self.iter, self.group["lr"]))
                self.iter += 1
        return seen


class IterRunner(EpochRunner):
    def __init__(self, lr, max_iters, epoch_len):
        super().__init__(lr, 0, epoch_len)
        self.max_epochs, self.max_iters = None, max_iters

    def run(self, hook):
        seen = []
        hook.before_run(self)  # then before_epoch, which the lr hook does not implement
        for self.iter in range(self.max_iters):
            self.epoch = self.iter // self.epoch_len  # IterLoader counts passes over the loader
            hook.before_train_iter(self)
            seen.append((self.epoch, self.iter, self.group["lr"]))
        return seen


CASES = [
    # by_epoch policies whose epoch lr changes inside the warmup (the interplay worth testing)
    ("epoch", dict(policy="poly", power=0.9, min_lr=1e-7, warmup="linear", warmup_iters=25,
                   warmup_ratio=1 / 3)),
    ("epoch", dict(policy="step", step=[1, 3], gamma=0.5, warmup="exp", warmup_iters=2,
                   warmup_by_epoch=True, warmup_ratio=0.01)),
    ("epoch", dict(policy="FlatCosineAnnealing", start_percent=0.5, min_lr_ratio=0.05,
                   warmup="constant", warmup_iters=13)),
    ("epoch", dict(policy="poly", power=2.0, by_epoch=False, warmup="linear", warmup_iters=17)),
    ("epoch", dict(policy="CosineRestart", periods=[20, 30, 20], restart_weights=[1, 0.7, 0.3],
                   min_lr=1e-4, by_epoch=False, warmup="exp", warmup_iters=1,
                   warmup_by_epoch=True)),
    ("epoch", dict(policy="cyclic", target_ratio=(10, 1e-4), cyclic_times=3,
                   step_ratio_up=0.3, gamma=0.6, by_epoch=False)),
    ("iter", dict(policy="poly", power=0.9, by_epoch=False, warmup="linear", warmup_iters=9)),
    ("iter", dict(policy="OneCycle", max_lr=0.2, pct_start=0.25, div_factor=20,
                  final_div_factor=100, three_phase=True, anneal_strategy="linear")),
]

MAX_EPOCHS, EPOCH_LEN, MAX_ITERS = 7, 10, 57


@pytest.mark.parametrize("kind, cfg", CASES, ids=[f"{k}-{c['policy']}" for k, c in CASES])
def test_whole_run_matches_the_stateful_hook(kind, cfg):
    base = 0.007
    if kind == "epoch":
        runner = EpochRunner(base, MAX_EPOCHS, EPOCH_LEN)
        max_epochs, max_iters = MAX_EPOCHS, MAX_EPOCHS * EPOCH_LEN
    else:
        runner = IterRunner(base, MAX_ITERS, EPOCH_LEN)
        max_epochs, max_iters = None, MAX_ITERS
    hook_args = dict(cfg)
    if hook_args["policy"] == "OneCycle":
        hook_args["by_epoch"] = False
    seen = runner.run(MmcvHook(**hook_args))

    schedule = LrSchedule.from_config(cfg, max_epochs=max_epochs, max_iters=max_iters,
                                      iters_per_epoch=EPOCH_LEN)
    initial = schedule.initial_lr(base)
    ours = [(epoch, it, schedule.lr(initial, epoch, it)) for epoch, it, _ in seen]
    assert ours == seen
    assert len({lr for _, _, lr in seen}) > 3  # the curve actually moves

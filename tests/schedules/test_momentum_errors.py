"""User mistakes in ``momentum_config``: one-line UserErrors that name the key path, found before
the run (the config check, ``--dry-run``); the optimizer must have a momentum or betas to set."""
import os
from types import SimpleNamespace

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.config.check import check_config
from ocr_ds.config.check_objects import check_momentum_optimizer, scheduled_beta_problems
from ocr_ds.engine.hooks.build import build_hooks
from ocr_ds.engine.hooks.momentum import MomentumUpdaterHook
from ocr_ds.errors import UserError
from ocr_ds.schedules import MomentumSchedule

TOY = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "engine", "toy.py")


def error(cfg, max_epochs=10, max_iters=100) -> str:
    with pytest.raises(UserError) as info:
        MomentumSchedule.from_config(cfg, max_epochs=max_epochs, max_iters=max_iters)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_no_momentum_config_means_no_schedule():
    assert MomentumSchedule.from_config(None, max_epochs=3, max_iters=30) is None


@pytest.mark.parametrize("cfg, message", [
    ("step", "momentum_config: expected a dict (or None for no momentum schedule) (got 'step')"),
    (dict(step=2), "momentum_config.policy: required (one of: step, CosineAnnealing, "
                   "LinearAnnealing, cyclic, OneCycle)"),
    (dict(policy="fixed"), "momentum_config.policy: unknown 'fixed'; expected one of: "
                           "CosineAnnealing, LinearAnnealing, OneCycle, cyclic, step"),
    (dict(policy="step"), "momentum_config.step: required by policy 'step'"),
    (dict(policy="step", step=[3, 1]), "momentum_config.step: expected milestones in increasing "
                                       "order (got [3, 1])"),
    (dict(policy="step", step=2, gamma="half"), "momentum_config.gamma: expected a number "
                                                "(got 'half')"),
    (dict(policy="CosineAnnealing"), "momentum_config.min_momentum: policy 'CosineAnnealing' "
     "needs exactly one of min_momentum and min_momentum_ratio (got neither)"),
    (dict(policy="LinearAnnealing", min_momentum=0.1, min_momentum_ratio=0.5),
     "momentum_config.min_momentum: policy 'LinearAnnealing' needs exactly one of min_momentum "
     "and min_momentum_ratio (got both)"),
    (dict(policy="step", step=2, warmup_by_epoch=True),
     "momentum_config: unknown key(s) 'warmup_by_epoch' for policy 'step'; expected keys: "
     "by_epoch, gamma, min_momentum, step, warmup, warmup_iters, warmup_ratio"),
    (dict(policy="step", step=2, warmup="cos"),
     "momentum_config.warmup: expected one of None, 'constant', 'linear', 'exp' (got 'cos')"),
    (dict(policy="step", step=2, warmup="exp"),
     "momentum_config.warmup_iters: expected a positive integer when warmup is 'exp' (got 0)"),
    (dict(policy="step", step=2, warmup="exp", warmup_iters=3, warmup_ratio=1.5),
     "momentum_config.warmup_ratio: expected a number in (0, 1] (got 1.5)"),
    (dict(policy="cyclic", by_epoch=True),
     "momentum_config.by_epoch: expected False: policy 'cyclic' is iteration-based only "
     "(got True)"),
    (dict(policy="cyclic", cyclic_times=101),
     "momentum_config.cyclic_times: expected at most max_iters (100) cycles (got 101)"),
    (dict(policy="OneCycle", base_momentum={"SGD": 0.8}),
     "momentum_config.base_momentum: expected a number (one base_momentum for all param groups; "
     "per-group lists and per-optimizer dicts are not supported) (got {'SGD': 0.8})"),
    (dict(policy="OneCycle", pct_start=0.01),  # 0.01 * 100 iterations: mmcv divides by zero
     "momentum_config.pct_start: expected a value with pct_start * max_iters != 1 "
     "(max_iters=100; the rising phase would be empty) (got 0.01)"),
    (dict(policy="OneCycle", max_lr=0.1),
     "momentum_config: unknown key(s) 'max_lr' for policy 'OneCycle'; expected keys: "
     "anneal_strategy, base_momentum, by_epoch, max_momentum, pct_start, three_phase, warmup, "
     "warmup_iters, warmup_ratio"),
])
def test_exact_messages(cfg, message):
    assert error(cfg) == message


def test_by_epoch_in_an_iteration_based_run_is_refused():
    assert error(dict(policy="step", step=2, by_epoch=True), max_epochs=None) == (
        "momentum_config.by_epoch: expected False for an iteration-based run (IterBasedRunner), "
        "where mmcv never updates a by_epoch momentum (got True)")
    for cfg in (dict(policy="step", step=20, by_epoch=False), dict(policy="cyclic"),
                dict(policy="OneCycle")):
        assert MomentumSchedule.from_config(cfg, max_epochs=None, max_iters=100) is not None


@pytest.mark.parametrize("name, params", [
    ("Adadelta", {}), ("Adagrad", {}), ("adagrad", {}), ("Rprop", {}), ("ASGD", {})])
def test_optimizers_without_momentum_are_refused(name, params):
    (line,) = check_momentum_optimizer({"type": name, "params": params})
    assert line.startswith(f"momentum_config: optimizer {name!r} has neither momentum nor betas")


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adam", "AdamW", "NAdam", "adam", "adamw",
                                  "lamb", "lion", "musgd", "SomethingElse"])
def test_optimizers_with_momentum_or_betas_pass(name):
    assert check_momentum_optimizer({"type": name, "params": {}}) == []


def test_config_check_names_the_optimizer_in_one_line():
    cfg = Config.fromfile(TOY)
    cfg.optimizer = dict(type="Adadelta", lr=0.5)
    cfg.momentum_config = dict(policy="step", step=2)
    assert check_config(cfg, build=False) == [
        "momentum_config: optimizer 'Adadelta' has neither momentum nor betas for a momentum "
        "schedule to set (mmcv's momentum hooks fail on it); remove momentum_config or use an "
        "optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, ...)"]
    cfg.momentum_config = dict(policy="step", step=2, min_momentum="x")
    assert check_config(cfg, build=False) == [
        "momentum_config.min_momentum: expected a number (got 'x')",
        "momentum_config: optimizer 'Adadelta' has neither momentum nor betas for a momentum "
        "schedule to set (mmcv's momentum hooks fail on it); remove momentum_config or use an "
        "optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, ...)"]
    cfg.optimizer = dict(type="SGD", lr=0.5, momentum=0.9)
    cfg.momentum_config = dict(policy="step", step=2)
    assert check_config(cfg, build=False) == []


def test_the_hook_refuses_a_param_group_without_momentum_or_betas():
    """The fallback for an optimizer the config check cannot know (mmcv: KeyError 'betas')."""
    opt = torch.optim.Adadelta([torch.nn.Parameter(torch.zeros(1))])
    hook = MomentumUpdaterHook(MomentumSchedule.from_config(
        dict(policy="step", step=2), max_epochs=3, max_iters=30))
    with pytest.raises(UserError, match=r"^momentum_config: the optimizer \(Adadelta\) has "
                                        r"neither momentum nor betas to schedule"):
        hook.before_run(SimpleNamespace(optimizer=opt, epoch=0, iter=0))


def test_the_hook_comes_right_after_the_lr_hook_and_only_with_momentum_config():
    names = [type(h).__name__ for h in build_hooks(
        dict(momentum_config=dict(policy="step", step=2),
             custom_hooks=[dict(type="EmptyCacheHook", priority="VERY_HIGH"),
                           dict(type="EmptyCacheHook", priority="ABOVE_NORMAL")]),
        schedule=None, runner_by_epoch=True, validate=False)]
    assert names == ["LrUpdaterHook", "EmptyCacheHook", "MomentumUpdaterHook", "EmptyCacheHook",
                     "CheckpointHook", "IterTimerHook", "LoggerHook"]
    assert "MomentumUpdaterHook" not in [type(h).__name__ for h in build_hooks(
        {}, schedule=None, runner_by_epoch=True, validate=False)]


def beta_problems(config, name, params=None, max_epochs=3, ipe=10):
    schedule = MomentumSchedule.from_config(config, max_epochs=max_epochs,
                                            max_iters=max_epochs * ipe)
    return scheduled_beta_problems(schedule, {"type": name, "params": params or {}},
                                   max_epochs * ipe, ipe)


def test_betas0_reaching_1_is_refused_before_the_run():
    """Adam's bias correction divides by 1 - betas[0]**step: mmcv's default warmup (ratio 0.9)
    takes Adam's 0.9 to 1.0 at iteration 0 and torch's Adam raises ZeroDivisionError there."""
    warm = dict(policy="step", step=2, warmup="linear", warmup_iters=5)
    assert beta_problems(warm, "adam") == [
        "momentum_config: the schedule sets betas[0] of optimizer 'adam' to 1.0 at iteration 0 "
        "(from 0.9); the warmup divides it by warmup_ratio (0.9) at first; expected below 1 "
        "(the optimizer's bias correction divides by 1 - betas[0]**step)"]
    assert beta_problems(warm, "RAdam")[0].startswith(
        "momentum_config: the schedule sets betas[0] of optimizer 'RAdam' to 1.0 at iteration 0")
    assert beta_problems(dict(policy="OneCycle", max_momentum=1.0), "AdamW") == [
        "momentum_config: the schedule sets betas[0] of optimizer 'AdamW' to 1.0 at iteration 0; "
        "expected below 1 (the optimizer's bias correction divides by 1 - betas[0]**step)"]
    # late peaks: a growing step by epoch, a cycle above the base
    assert "at iteration 20 (from 0.6)" in beta_problems(
        dict(policy="step", step=1, gamma=1.3), "adamw", {"betas": [0.6, 0.9]})[0]
    assert "to 1.0 at iteration 12 (from 0.8)" in beta_problems(
        dict(policy="cyclic", target_ratio=(1.25, 1)), "Adam", {"betas": (0.8, 0.9)})[0]
    # below 1, or no bias correction to break
    assert beta_problems(warm, "adam", {"betas": [0.85, 0.999]}) == []
    assert beta_problems(dict(warm, warmup_ratio=0.95), "Adamax", {"betas": (0.9, 0.99)}) == []
    assert beta_problems(warm, "SGD", {"momentum": 0.9}) == []
    assert beta_problems(warm, "lion") == []
    assert beta_problems(dict(policy="OneCycle"), "adam") == []


@pytest.mark.parametrize("key, config", [
    ("lr_config", dict(policy="cyclic", by_epoch=False, cyclic_times=5)),
    ("lr_config", dict(policy="OneCycle", max_lr=0.1, pct_start=0.5)),
    ("momentum_config", dict(policy="cyclic", cyclic_times=5)),
    ("momentum_config", dict(policy="OneCycle", pct_start=0.5)),
])
def test_an_epoch_run_is_not_refused_on_a_guessed_iteration_count(key, config):
    """Before the data gives the epoch's length, an epoch-based run's iteration count is
    unknown (max_iters=None): 5 cycles or pct_start 0.5 in 2 epochs are fine for 2 epochs of 12
    iterations; with the real count the same checks still refuse what is wrong."""
    from ocr_ds.schedules import LrSchedule

    def build(max_iters):
        if key == "lr_config":
            return LrSchedule.from_config(config, max_epochs=2, max_iters=max_iters,
                                          iters_per_epoch=1 if max_iters is None else 12)
        return MomentumSchedule.from_config(config, max_epochs=2, max_iters=max_iters)

    build(None)
    build(24)
    with pytest.raises(UserError, match=rf"^{key}\.(cyclic_times|pct_start): expected "):
        build(2)  # what a guess of one iteration per epoch refused before
    cfg = Config.fromfile(TOY)
    cfg[key] = config
    cfg.total_epochs = 2
    assert check_config(cfg, build=False) == []

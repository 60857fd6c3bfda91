"""User mistakes in ``lr_config``: one-line UserErrors that name the key path."""
import pytest

from ocr_ds.errors import UserError
from ocr_ds.schedules import LrSchedule


def build(cfg, max_epochs=10, key="lr_config"):
    return LrSchedule.from_config(cfg, max_epochs=max_epochs, max_iters=100, iters_per_epoch=10,
                                  key=key)


def error(cfg, **kwargs) -> str:
    with pytest.raises(UserError) as info:
        build(cfg, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_warmup_type_exact_message():
    assert error(dict(policy="poly", warmup="cos")) == \
        "lr_config.warmup: expected one of None, 'constant', 'linear', 'exp' (got 'cos')"


@pytest.mark.parametrize("name", ["cosine", "onecycle", "POLY", "Cyclic_", 3])
def test_unknown_policy_lists_the_valid_ones(name):
    message = error(dict(policy=name))
    assert message.startswith(f"lr_config.policy: unknown {name!r}; expected one of: ")
    for valid in ("fixed", "step", "exp", "poly", "inv", "CosineAnnealing",
                  "FlatCosineAnnealing", "CosineRestart", "LinearAnnealing", "cyclic",
                  "OneCycle"):
        assert valid in message


def test_missing_policy():
    assert error(dict(by_epoch=True)).startswith("lr_config.policy: required (one of: fixed, ")


def test_lr_config_not_a_dict():
    assert error("poly") == "lr_config: expected a dict (or None for a fixed lr) (got 'poly')"


@pytest.mark.parametrize("cfg, message", [
    (dict(policy="step"), "lr_config.step: required by policy 'step'"),
    (dict(policy="exp"), "lr_config.gamma: required by policy 'exp'"),
    (dict(policy="inv"), "lr_config.gamma: required by policy 'inv'"),
    (dict(policy="CosineRestart", min_lr=0), "lr_config.periods: required by policy "
                                             "'CosineRestart'"),
    (dict(policy="OneCycle"), "lr_config.max_lr: required by policy 'OneCycle'"),
])
def test_missing_required_arg(cfg, message):
    assert error(cfg) == message


@pytest.mark.parametrize("policy", ["CosineAnnealing", "FlatCosineAnnealing", "LinearAnnealing"])
def test_min_lr_and_ratio_are_exclusive(policy):
    assert error(dict(policy=policy, min_lr=0.0, min_lr_ratio=0.1)) == (
        f"lr_config.min_lr: policy {policy!r} needs exactly one of min_lr and min_lr_ratio "
        f"(got both)")
    assert error(dict(policy=policy)).endswith("(got neither)")


@pytest.mark.parametrize("cfg, message", [
    (dict(policy="poly", warmup="linear", warmup_iters=10, warmup_ratio=0),
     "lr_config.warmup_ratio: expected a number in (0, 1] (got 0)"),
    (dict(policy="poly", warmup="exp", warmup_iters=10, warmup_ratio=1.5),
     "lr_config.warmup_ratio: expected a number in (0, 1] (got 1.5)"),
    (dict(policy="poly", warmup="linear", warmup_iters=-1),
     "lr_config.warmup_iters: expected an integer >= 0 (got -1)"),
    (dict(policy="poly", warmup_iters=-1),
     "lr_config.warmup_iters: expected an integer >= 0 (got -1)"),
    (dict(policy="poly", warmup="linear"),
     "lr_config.warmup_iters: expected a positive integer when warmup is 'linear' (got 0)"),
    (dict(policy="poly", warmup="linear", warmup_iters=2.5),
     "lr_config.warmup_iters: expected an integer (got 2.5)"),
    (dict(policy="poly", warmup="linear", warmup_iters=5, warmup_by_epoch="yes"),
     "lr_config.warmup_by_epoch: expected True or False (got 'yes')"),
])
def test_bad_warmup(cfg, message):
    assert error(cfg) == message


@pytest.mark.parametrize("policy, extra", [("cyclic", {}), ("OneCycle", {"max_lr": 0.1})])
def test_iteration_only_policies_refuse_by_epoch(policy, extra):
    assert error(dict(policy=policy, by_epoch=True, **extra)) == (
        f"lr_config.by_epoch: expected False: policy {policy!r} is iteration-based only "
        f"(got True)")


def test_by_epoch_in_iteration_run():
    assert error(dict(policy="poly", by_epoch=True), max_epochs=None) == (
        "lr_config.by_epoch: expected False for an iteration-based run (IterBasedRunner), "
        "where mmcv never updates a by_epoch lr (got True)")
    # without by_epoch: False there, as mmcv's IterBasedRunner.register_training_hooks sets it
    assert not build(dict(policy="poly"), max_epochs=None).by_epoch
    # fixed is harmless without warmup, not with it (mmcv would skip the warmup)
    assert error(dict(policy="fixed", by_epoch=True, warmup="linear", warmup_iters=5),
                 max_epochs=None)


def test_unknown_key_names_the_policy_and_its_keys():
    assert error(dict(policy="step", step=2, power=3)) == (
        "lr_config: unknown key(s) 'power' for policy 'step'; expected keys: by_epoch, gamma, "
        "min_lr, step, warmup, warmup_by_epoch, warmup_iters, warmup_ratio")


@pytest.mark.parametrize("cfg, message", [
    (dict(policy="step", step=0),
     "lr_config.step: expected a positive integer or a list of positive integers (got 0)"),
    (dict(policy="step", step="3"),
     "lr_config.step: expected a positive integer or a list of positive integers (got '3')"),
    (dict(policy="step", step=[8, 4]),
     "lr_config.step: expected milestones in increasing order (got [8, 4])"),
    (dict(policy="step", step=[4, True]),
     "lr_config.step: expected a positive integer or a list of positive integers (got [4, True])"),
    (dict(policy="poly", power="2"), "lr_config.power: expected a number (got '2')"),
    (dict(policy="poly", by_epoch="yes"), "lr_config.by_epoch: expected True or False (got 'yes')"),
    (dict(policy="FlatCosineAnnealing", min_lr=0, start_percent=2.0),
     "lr_config.start_percent: expected a float in [0, 1] (got 2.0)"),
    # mmcv refuses an int for these floats (ValueError), even 1 or 0
    (dict(policy="FlatCosineAnnealing", min_lr=0, start_percent=1),
     "lr_config.start_percent: expected a float in [0, 1] (got 1)"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=0),
     "lr_config.pct_start: expected a float in [0, 1] (got 0)"),
    (dict(policy="cyclic", target_ratio=10),
     "lr_config.target_ratio: expected a float or a list/tuple of one or two numbers (got 10)"),
    (dict(policy="CosineRestart", periods=[5], min_lr=0),
     "lr_config.periods: the periods must cover the whole run (10 epochs) (got [5], sum 5)"),
    (dict(policy="CosineRestart", periods=[5, 5], min_lr=0),
     "lr_config.restart_weights: expected one weight per period (2) (got 1: [1])"),
    (dict(policy="CosineRestart", periods=[], min_lr=0),
     "lr_config.periods: expected a non-empty list of positive integers (got [])"),
    (dict(policy="cyclic", cyclic_times=1000),
     "lr_config.cyclic_times: expected at most max_iters (100) cycles (got 1000)"),
    (dict(policy="cyclic", cyclic_times=0),
     "lr_config.cyclic_times: expected an integer >= 1 (got 0)"),
    (dict(policy="cyclic", step_ratio_up=1.0),
     "lr_config.step_ratio_up: expected a number in [0, 1) (got 1.0)"),
    (dict(policy="cyclic", gamma=0), "lr_config.gamma: expected a number in (0, 1] (got 0)"),
    (dict(policy="cyclic", target_ratio=[1, 2, 3]),
     "lr_config.target_ratio: expected a float or a list/tuple of one or two numbers "
     "(got [1, 2, 3])"),
    (dict(policy="cyclic", anneal_strategy="cosine"),
     "lr_config.anneal_strategy: expected one of 'cos', 'linear' (got 'cosine')"),
    (dict(policy="OneCycle", max_lr=[0.1, 0.2]),
     "lr_config.max_lr: expected a number (one max_lr for all param groups; per-group lists "
     "and per-optimizer dicts are not supported) (got [0.1, 0.2])"),
    (dict(policy="OneCycle", max_lr=0.1, total_steps=50),
     "lr_config.total_steps: expected at least max_iters (100) (got 50)"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=1.2),
     "lr_config.pct_start: expected a float in [0, 1] (got 1.2)"),
    (dict(policy="OneCycle", max_lr=0.1, div_factor=0),
     "lr_config.div_factor: expected a non-zero number (got 0)"),
])
def test_bad_policy_args(cfg, message):
    assert error(cfg) == message


def test_one_cycle_empty_rising_phase():
    # 0.01 * 100 - 1 == 0: mmcv would divide by zero at iteration 0
    assert error(dict(policy="OneCycle", max_lr=0.1, pct_start=0.01)).startswith(
        "lr_config.pct_start: expected a value with pct_start * total_steps != 1")


def test_key_path_is_configurable():
    assert error(dict(policy="poly", warmup="cos"), key="model.lr_config").startswith(
        "model.lr_config.warmup: ")


def test_bad_run_length_is_a_bug_not_a_user_error():
    with pytest.raises(ValueError):
        LrSchedule.from_config(None, max_epochs=None, max_iters=0, iters_per_epoch=1)
    with pytest.raises(ValueError):
        LrSchedule.from_config(None, max_epochs=2, max_iters=10, iters_per_epoch=0)

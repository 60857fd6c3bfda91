"""Every regular policy against values computed here from REFERENCE §3's formulas.

The expected values never call ocr_ds code: each is a hand-computed number or the formula written
out in the test, at the boundaries (first epoch/iteration, epoch edges, the last one).
"""
from math import cos, pi

import pytest

from ocr_ds.schedules import LrSchedule

BASE = 0.1


def build(cfg, max_epochs=12, iters_per_epoch=10, max_iters=None):
    if max_iters is None:
        max_iters = max_epochs * iters_per_epoch
    return LrSchedule.from_config(cfg, max_epochs=max_epochs, max_iters=max_iters,
                                  iters_per_epoch=iters_per_epoch)


def ref_cos(start, end, factor, weight=1.0):
    return end + 0.5 * weight * (start - end) * (cos(pi * factor) + 1)


def ref_lin(start, end, factor):
    return start + (end - start) * factor


def at_epoch(s, epoch, k=10, base=BASE):
    """The lr at the first and the last iteration of 0-based ``epoch``: they must agree."""
    first, last = s.lr(base, epoch, epoch * k), s.lr(base, epoch, epoch * k + k - 1)
    assert first == last, "a by_epoch lr must not change inside an epoch"
    return first


def at_iter(s, it, k=10, base=BASE):
    return s.lr(base, it // k, it)


approx = lambda v: pytest.approx(v, rel=1e-12, abs=1e-18)  # noqa: E731


# --- the check value MMOCR's own DBNet log prints for Epoch [101] -------------------------------

def test_poly_dbnet_check_value():
    s = LrSchedule.from_config(dict(policy="poly", power=0.9, min_lr=1e-7, by_epoch=True),
                               max_epochs=1200, max_iters=1200 * 63, iters_per_epoch=63)
    lr = s.lr(0.007, 100, 100 * 63)
    assert f"{lr:.3e}" == "6.473e-03"
    assert s.lr(0.007, 100, 100 * 63 + 62) == lr  # constant over the epoch
    assert s.by_epoch


# --- lr_config=None and fixed -----------------------------------------------------------------

@pytest.mark.parametrize("cfg", [None, dict(policy="fixed"), dict(policy="Fixed", by_epoch=False)])
def test_fixed(cfg):
    s = build(cfg)
    for it in (0, 9, 10, 119):
        assert at_iter(s, it) == BASE


def test_none_is_fixed_and_iteration_based():
    s = LrSchedule.from_config(None, max_epochs=None, max_iters=50, iters_per_epoch=7)
    assert s.lr(0.3, 7, 49) == 0.3
    assert s.by_epoch is False
    assert s.warmup is None


def test_fixed_by_epoch_allowed_in_iteration_run():
    # by_epoch=True is harmless for 'fixed' without warmup
    s = LrSchedule.from_config(dict(policy="fixed", by_epoch=True), max_epochs=None,
                               max_iters=50, iters_per_epoch=7)
    assert s.lr(0.3, 0, 0) == s.lr(0.3, 7, 49) == 0.3


def test_by_epoch_defaults_to_false_in_iteration_run():
    # mmcv's IterBasedRunner.register_training_hooks: lr_config.setdefault('by_epoch', False)
    s = LrSchedule.from_config(dict(policy="poly"), max_epochs=None, max_iters=50,
                               iters_per_epoch=7)
    assert s.by_epoch is False
    assert s.lr(0.3, 0, 10) == 0.3 * (1 - 10 / 50)


# --- step -------------------------------------------------------------------------------------

def test_step_int_by_epoch():
    s = build(dict(policy="step", step=3, gamma=0.5))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 2) == approx(0.1)
    assert at_epoch(s, 3) == approx(0.05)
    assert at_epoch(s, 6) == approx(0.025)
    assert at_epoch(s, 11) == approx(0.0125)


def test_step_list_by_epoch_default_gamma():
    s = build(dict(policy="step", step=[4, 8]))
    expected = {0: 0.1, 3: 0.1, 4: 0.01, 7: 0.01, 8: 0.001, 11: 0.001}
    for epoch, lr in expected.items():
        assert at_epoch(s, epoch) == approx(lr)


def test_step_list_with_repeated_milestone_counts_both():
    s = build(dict(policy="step", step=[4, 4]))
    assert at_epoch(s, 3) == approx(0.1)
    assert at_epoch(s, 4) == approx(0.001)


def test_step_tuple_from_cfg_options():
    s = build(dict(policy="step", step=(4, 8)))
    assert at_epoch(s, 8) == approx(0.001)


def test_step_min_lr_clips():
    s = build(dict(policy="step", step=1, gamma=0.1, min_lr=1e-4))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 2) == approx(1e-3)
    assert at_epoch(s, 3) == approx(1e-4)  # exactly 1e-4 either way
    assert at_epoch(s, 5) == approx(1e-4)  # 1e-6 clipped
    assert at_epoch(s, 11) == approx(1e-4)


def test_step_by_iter():
    s = build(dict(policy="step", step=[15, 25], gamma=0.1, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 14) == approx(0.1)
    assert at_iter(s, 15) == approx(0.01)
    assert at_iter(s, 24) == approx(0.01)
    assert at_iter(s, 25) == approx(0.001)
    assert at_iter(s, 119) == approx(0.001)


# --- exp, inv ---------------------------------------------------------------------------------

def test_exp_by_epoch():
    s = build(dict(policy="exp", gamma=0.9))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 1) == approx(0.09)
    assert at_epoch(s, 2) == approx(0.081)
    assert at_epoch(s, 11) == approx(0.1 * 0.9**11)


def test_exp_by_iter():
    s = build(dict(policy="exp", gamma=0.99, by_epoch=False))
    for it in (0, 9, 10, 119):
        assert at_iter(s, it) == approx(0.1 * 0.99**it)


def test_inv():
    s = build(dict(policy="inv", gamma=0.1, power=0.5))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 3) == approx(0.1 / 1.3**0.5)
    assert at_epoch(s, 10) == approx(0.1 / 2**0.5)
    s = build(dict(policy="inv", gamma=0.01, by_epoch=False))  # default power 1
    assert at_iter(s, 100) == approx(0.05)
    assert at_iter(s, 119) == approx(0.1 / 2.19)


# --- poly -------------------------------------------------------------------------------------

def test_poly_by_epoch_defaults():
    s = build(dict(policy="poly"))  # power 1, min_lr 0: a straight line to 0 at epoch 12
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 3) == approx(0.075)
    assert at_epoch(s, 6) == approx(0.05)
    assert at_epoch(s, 11) == approx(0.1 / 12)


def test_poly_by_iter():
    s = build(dict(policy="poly", power=2.0, min_lr=0.001, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 10) == approx(0.099 * (110 / 120) ** 2 + 0.001)
    assert at_iter(s, 60) == approx(0.02575)
    assert at_iter(s, 119) == approx(0.099 / 120**2 + 0.001)


# --- cosine family ----------------------------------------------------------------------------

def test_cosine_annealing_by_epoch_ratio():
    s = build(dict(policy="CosineAnnealing", min_lr_ratio=0.01))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 6) == approx(0.0505)  # halfway: mean of base and target
    assert at_epoch(s, 11) == approx(ref_cos(0.1, 0.001, 11 / 12))


def test_cosine_annealing_by_iter_min_lr():
    s = build(dict(policy="CosineAnnealing", min_lr=0.0, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 10) == approx(0.05 * (cos(pi * 10 / 120) + 1))
    assert at_iter(s, 60) == approx(0.05)
    assert at_iter(s, 119) == approx(ref_cos(0.1, 0.0, 119 / 120))


def test_flat_cosine_by_epoch():
    s = build(dict(policy="FlatCosineAnnealing", min_lr=0.0))  # start_percent 0.75 -> epoch 9
    for epoch in (0, 5, 8, 9):
        assert at_epoch(s, epoch) == approx(0.1)
    assert at_epoch(s, 10) == approx(ref_cos(0.1, 0.0, 1 / 3))
    assert at_epoch(s, 11) == approx(ref_cos(0.1, 0.0, 2 / 3))


def test_flat_cosine_start_uses_python_round():
    # round(13 * 0.5) == 6 (round half to even, as mmcv's round()); half-up would give 7
    s = build(dict(policy="FlatCosineAnnealing", start_percent=0.5, min_lr_ratio=0.1),
              max_epochs=13)
    assert at_epoch(s, 5) == approx(0.1)
    assert at_epoch(s, 6) == approx(0.1)
    assert at_epoch(s, 7) == approx(ref_cos(0.1, 0.01, 1 / 7))
    assert at_epoch(s, 12) == approx(ref_cos(0.1, 0.01, 6 / 7))


def test_flat_cosine_by_iter():
    s = build(dict(policy="FlatCosineAnnealing", start_percent=0.5, min_lr=1e-3, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 59) == approx(0.1)
    assert at_iter(s, 60) == approx(0.1)
    assert at_iter(s, 90) == approx(0.0505)
    assert at_iter(s, 119) == approx(ref_cos(0.1, 1e-3, 59 / 60))


def test_cosine_restart_by_epoch():
    s = build(dict(policy="CosineRestart", periods=[4, 8], restart_weights=[1, 0.5], min_lr=0.0))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 2) == approx(0.05)
    assert at_epoch(s, 3) == approx(ref_cos(0.1, 0.0, 3 / 4))
    assert at_epoch(s, 4) == approx(0.05)  # restart at weight 0.5
    assert at_epoch(s, 8) == approx(0.025)
    assert at_epoch(s, 11) == approx(ref_cos(0.1, 0.0, 7 / 8, 0.5))


def test_cosine_restart_by_iter_ratio_default_weights():
    s = build(dict(policy="CosineRestart", periods=[120], min_lr_ratio=0.5, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 60) == approx(0.075)
    assert at_iter(s, 119) == approx(ref_cos(0.1, 0.05, 119 / 120))


def test_cosine_restart_periods_may_outlast_the_run():
    s = build(dict(policy="CosineRestart", periods=[10, 200], restart_weights=[1, 1],
                   min_lr=0.0, by_epoch=False))
    assert at_iter(s, 9) == approx(ref_cos(0.1, 0.0, 9 / 10))
    assert at_iter(s, 10) == approx(0.1)
    assert at_iter(s, 119) == approx(ref_cos(0.1, 0.0, 109 / 200))


def test_linear_annealing():
    s = build(dict(policy="LinearAnnealing", min_lr=0.0))
    assert at_epoch(s, 0) == approx(0.1)
    assert at_epoch(s, 3) == approx(0.075)
    assert at_epoch(s, 11) == approx(0.1 / 12)
    s = build(dict(policy="LinearAnnealing", min_lr_ratio=0.1, by_epoch=False))
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 60) == approx(0.055)
    assert at_iter(s, 119) == approx(ref_lin(0.1, 0.01, 119 / 120))


# --- cyclic -----------------------------------------------------------------------------------

def test_cyclic_defaults_one_cycle():
    # 100 iterations, one cycle: up over int(0.4*100)=40 iters to 10*base, down to 1e-4*base
    s = build(dict(policy="cyclic"), max_epochs=10)
    assert s.by_epoch is False
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 20) == approx(0.55)
    assert at_iter(s, 39) == approx(ref_cos(0.1, 1.0, 39 / 40))
    assert at_iter(s, 40) == approx(1.0)
    assert at_iter(s, 70) == approx(ref_cos(1.0, 1e-5, 0.5))
    assert at_iter(s, 99) == approx(ref_cos(1.0, 1e-5, 59 / 60))


def test_cyclic_two_cycles_gamma_linear():
    # cycles of 50 iterations, up for 20; the second cycle's peak is 1 - 0.5 + 10*0.5 = 5.5x
    s = build(dict(policy="cyclic", cyclic_times=2, gamma=0.5, anneal_strategy="linear"),
              max_epochs=10)
    assert at_iter(s, 0) == approx(0.1)
    assert at_iter(s, 10) == approx(0.55)
    assert at_iter(s, 20) == approx(1.0)
    assert at_iter(s, 49) == approx(ref_lin(1.0, 1e-5, 29 / 30))
    assert at_iter(s, 50) == approx(0.1)
    assert at_iter(s, 60) == approx(ref_lin(0.1, 0.55, 0.5))
    assert at_iter(s, 70) == approx(0.55)
    assert at_iter(s, 99) == approx(ref_lin(0.55, 1e-5, 29 / 30))


def test_cyclic_target_ratio_forms():
    # a float r means (r, r/1e5); a one-element list [r] too; a list works like a tuple
    for ratio in (5.0, [5.0], (5.0, 5e-5), [5.0, 5e-5]):
        s = build(dict(policy="cyclic", target_ratio=ratio), max_epochs=10)
        assert at_iter(s, 40) == approx(0.5)
        assert at_iter(s, 70) == approx(ref_cos(0.5, 5e-6, 0.5))


def test_cyclic_step_ratio_up_zero_keeps_mmcv_quirk():
    # no rising phase: the falling phase starts at 0 and mmcv scales its END (not its start)
    s = build(dict(policy="cyclic", step_ratio_up=0.0, cyclic_times=2, gamma=0.5), max_epochs=10)
    assert at_iter(s, 0) == approx(1.0)
    assert at_iter(s, 50) == approx(1.0)
    assert at_iter(s, 75) == approx(ref_cos(1.0, 0.1 * (0.5 + 1e-4 * 0.5), 0.5))


# --- OneCycle ---------------------------------------------------------------------------------

def test_one_cycle_defaults_ignore_base_lr():
    s = build(dict(policy="OneCycle", max_lr=0.1), max_epochs=10)  # T = 100
    assert s.by_epoch is False
    assert s.initial_lr(123.0) == approx(0.004)
    for base in (0.004, 123.0):  # base_lr is ignored: mmcv overrides it with max_lr/div_factor
        assert s.lr(base, 0, 0) == approx(0.004)
    assert at_iter(s, 10) == approx(ref_cos(0.004, 0.1, 10 / 29))
    assert at_iter(s, 29) == approx(0.1)
    assert at_iter(s, 64) == approx((0.1 + 4e-7) / 2)
    assert at_iter(s, 99) == approx(4e-7)


def test_one_cycle_three_phase_linear():
    s = build(dict(policy="OneCycle", max_lr=0.1, three_phase=True, anneal_strategy="linear",
                   div_factor=10, final_div_factor=100), max_epochs=10)
    assert at_iter(s, 0) == approx(0.01)
    assert at_iter(s, 10) == approx(ref_lin(0.01, 0.1, 10 / 29))
    assert at_iter(s, 29) == approx(0.1)
    assert at_iter(s, 40) == approx(ref_lin(0.1, 0.01, 11 / 29))
    assert at_iter(s, 58) == approx(0.01)
    assert at_iter(s, 80) == approx(ref_lin(0.01, 1e-4, 22 / 41))
    assert at_iter(s, 99) == approx(1e-4)


def test_one_cycle_total_steps_longer_than_run():
    s = build(dict(policy="OneCycle", max_lr=0.1, total_steps=200, pct_start=0.25),
              max_epochs=10)
    assert at_iter(s, 49) == approx(0.1)
    assert at_iter(s, 99) == approx(ref_cos(0.1, 4e-7, 50 / 150))


def test_one_cycle_iteration_run():
    s = LrSchedule.from_config(dict(policy="OneCycle", max_lr=1.0), max_epochs=None,
                               max_iters=11, iters_per_epoch=3)  # first phase ends at 2.3
    assert s.lr(0, 0, 0) == approx(0.04)
    assert s.lr(0, 0, 2) == approx(ref_cos(0.04, 1.0, 2 / 2.3))
    assert s.lr(0, 1, 3) == approx(ref_cos(1.0, 4e-6, 0.7 / 7.7))
    assert s.lr(0, 3, 10) == approx(4e-6)


# --- spelling and purity ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["poly", "Poly"])
def test_policy_name_title_casing(name):
    assert at_epoch(build(dict(policy=name)), 6) == approx(0.05)


def test_pure_and_order_independent():
    s = build(dict(policy="poly", power=0.9, warmup="linear", warmup_iters=15))
    points = [(e, i) for i in (119, 0, 14, 15, 3, 60) for e in [i // 10]]
    first = [s.lr(BASE, e, i) for e, i in points]
    assert [s.lr(BASE, e, i) for e, i in reversed(points)] == first[::-1]


def test_negative_position_is_a_bug():
    s = build(dict(policy="poly"))
    with pytest.raises(ValueError):
        s.lr(BASE, -1, 0)


def test_step_empty_list_is_constant():
    # MMOCR's schedule_adadelta_5e.py (CRNN) writes lr_config = dict(policy='step', step=[])
    s = LrSchedule.from_config(dict(policy="step", step=[]), max_epochs=5, max_iters=50,
                               iters_per_epoch=10)
    assert [s.lr(1.0, e, e * 10) for e in range(5)] == [1.0] * 5

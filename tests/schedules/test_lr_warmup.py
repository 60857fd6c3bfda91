"""Warmup (constant, linear, exp) on top of epoch- and iteration-based policies.

Expected values come from REFERENCE §3 written out here: warmup multiplies the regular lr ``r``
of the current epoch (by_epoch) or iteration while ``i < W``; from ``W`` on the lr is ``r``.
"""
import pytest

from ocr_ds.schedules import LrSchedule

approx = lambda v: pytest.approx(v, rel=1e-12, abs=1e-18)  # noqa: E731
K = 10  # iterations per epoch


def build(cfg, max_epochs=12, max_iters=None):
    if max_iters is None:
        max_iters = max_epochs * K
    return LrSchedule.from_config(cfg, max_epochs=max_epochs, max_iters=max_iters,
                                  iters_per_epoch=K)


def factor(kind, i, w, ratio):
    if kind == "constant":
        return ratio
    if kind == "linear":
        return 1 - (1 - i / w) * (1 - ratio)
    return ratio ** (1 - i / w)


def poly_iter(i, base=0.1, power=0.9, max_iters=120):
    return base * (1 - i / max_iters) ** power


def test_linear_warmup_hand_values():
    s = build(dict(policy="fixed", warmup="linear", warmup_iters=500, warmup_ratio=0.001,
                   by_epoch=False), max_epochs=100)
    assert s.lr(0.01, 0, 0) == approx(1e-5)
    assert s.lr(0.01, 25, 250) == approx(0.005005)
    assert s.lr(0.01, 49, 499) == approx(0.01 * (1 - 0.999 / 500))
    assert s.lr(0.01, 50, 500) == approx(0.01)


@pytest.mark.parametrize("kind", ["constant", "linear", "exp"])
def test_warmup_by_iter_on_poly(kind):
    s = build(dict(policy="poly", power=0.9, by_epoch=False, warmup=kind, warmup_iters=20,
                   warmup_ratio=1 / 3))
    assert s.warmup == kind and s.warmup_iters == 20
    for i in (0, 1, 9, 10, 19):  # first iter, an epoch edge, W-1
        assert s.lr(0.1, i // K, i) == approx(poly_iter(i) * factor(kind, i, 20, 1 / 3))
        assert s.regular_lr(0.1, i // K, i) == approx(poly_iter(i))
    for i in (20, 21, 60, 119):  # W and after
        assert s.lr(0.1, i // K, i) == approx(poly_iter(i))


@pytest.mark.parametrize("kind", ["constant", "linear", "exp"])
def test_warmup_by_epoch_policy_uses_the_epoch_lr(kind):
    # step at epoch 2 (iteration 20) happens inside the 25-iteration warmup: the warmup factor
    # then multiplies epoch 2's regular lr, 0.01
    s = build(dict(policy="step", step=[2], warmup=kind, warmup_iters=25, warmup_ratio=0.2))
    regular = {0: 0.1, 1: 0.1, 2: 0.01, 3: 0.01, 11: 0.01}
    for i in (0, 9, 10, 19, 20, 24):
        e = i // K
        assert s.lr(0.1, e, i) == approx(regular[e] * factor(kind, i, 25, 0.2))
    for i in (25, 29, 30, 119):
        assert s.lr(0.1, i // K, i) == approx(regular.get(i // K, 0.01))


def test_exp_warmup_hand_values():
    s = build(dict(policy="fixed", warmup="exp", warmup_iters=4, warmup_ratio=0.01,
                   by_epoch=False))
    assert [s.lr(1.0, 0, i) for i in range(5)] == [
        approx(0.01), approx(0.01**0.75), approx(0.1), approx(0.01**0.25), approx(1.0)]


def test_constant_warmup_hand_values():
    s = build(dict(policy="poly", warmup="constant", warmup_iters=3, warmup_ratio=0.5))
    assert s.lr(0.1, 0, 0) == approx(0.05)
    assert s.lr(0.1, 0, 2) == approx(0.05)
    assert s.lr(0.1, 0, 3) == approx(0.1)
    assert s.lr(0.1, 6, 60) == approx(0.05)  # poly halfway, no warmup left


def test_warmup_by_epoch_multiplies_by_iters_per_epoch():
    s = build(dict(policy="fixed", warmup="linear", warmup_iters=2, warmup_by_epoch=True,
                   warmup_ratio=0.5))
    assert s.warmup_iters == 2 * K
    assert s.lr(1.0, 1, 10) == approx(0.75)
    assert s.lr(1.0, 1, 19) == approx(1 - 0.5 / 20)
    assert s.lr(1.0, 2, 20) == approx(1.0)


def test_warmup_by_epoch_in_iteration_run_counts_loader_passes():
    s = LrSchedule.from_config(dict(policy="poly", by_epoch=False, warmup="linear",
                                    warmup_iters=1, warmup_by_epoch=True, warmup_ratio=0.5),
                               max_epochs=None, max_iters=40, iters_per_epoch=8)
    assert s.warmup_iters == 8
    assert s.lr(1.0, 0, 4) == approx((1 - 4 / 40) * 0.75)
    assert s.lr(1.0, 1, 8) == approx(1 - 8 / 40)


def test_warmup_longer_than_the_run_still_applies():
    s = build(dict(policy="fixed", warmup="linear", warmup_iters=1000, by_epoch=False))
    assert s.lr(1.0, 11, 119) == approx(1 - (1 - 119 / 1000) * 0.9)


def test_warmup_iters_ignored_without_warmup():
    # mmcv does not look at warmup_iters/ratio when warmup is None
    s = build(dict(policy="fixed", warmup=None, warmup_iters=0, warmup_ratio=5))
    assert s.lr(1.0, 0, 0) == 1.0


def test_warmup_ratio_one_is_allowed():
    s = build(dict(policy="fixed", warmup="exp", warmup_iters=5, warmup_ratio=1))
    assert s.lr(1.0, 0, 0) == 1.0


def test_one_cycle_warmup_multiplies_its_own_base():
    s = build(dict(policy="OneCycle", max_lr=0.1, warmup="constant", warmup_iters=5,
                   warmup_ratio=0.5), max_epochs=10)
    assert s.lr(999.0, 0, 0) == approx(0.002)
    assert s.lr(999.0, 0, 5) == approx(s.regular_lr(999.0, 0, 5))


def test_abinet_style_step_with_one_epoch_linear_warmup():
    # MMOCR ABINet: step [16, 18], linear warmup over 1 epoch from 0.001 of the lr, 20 epochs
    s = LrSchedule.from_config(dict(policy="step", step=[16, 18], warmup="linear", warmup_iters=1,
                                    warmup_ratio=0.001, warmup_by_epoch=True),
                               max_epochs=20, max_iters=20 * 50, iters_per_epoch=50)
    assert s.lr(1e-4, 0, 0) == approx(1e-7)
    assert s.lr(1e-4, 0, 25) == approx(1e-4 * (1 - 0.5 * 0.999))
    assert s.lr(1e-4, 1, 50) == approx(1e-4)
    assert s.lr(1e-4, 16, 800) == approx(1e-5)
    assert s.lr(1e-4, 19, 999) == approx(1e-6)

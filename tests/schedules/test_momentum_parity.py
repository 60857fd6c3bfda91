"""``momentum_config`` against mmcv 1.7.2's own momentum hooks (``mmocr_momentum.py``, run in the
reference venv): every policy, ``by_epoch`` True and False, each warmup, EpochBasedRunner and
IterBasedRunner order, SGD (``momentum``) and Adam (``betas``, beta2 kept) with several param
groups of different momentum, whole runs and runs resumed half-way. Our
:class:`~ocr_ds.engine.hooks.momentum.MomentumUpdaterHook`, driven in our runner's order, must
leave the very same floats (``==``) in the param groups before every iteration, and the same
bookkeeping keys (``initial_momentum``; OneCycle's ``base_momentum`` / ``max_momentum``) after.
"""
from __future__ import annotations

import itertools

import pytest

from ocr_ds.engine.hooks.momentum import MomentumUpdaterHook
from ocr_ds.errors import UserError
from ocr_ds.schedules import MomentumSchedule
from parity import ref_file
from schedule_replay import current_momenta, momentum_groups, momentum_optimizer, replay

REF = ref_file(__file__, "mmocr_momentum.py")

# (config, runs by epoch): spelt as users do ('step' and 'Step' both name StepMomentumUpdaterHook)
POLICIES = [
    (dict(policy="step", step=2), True),
    (dict(policy="Step", step=[1, 3], gamma=0.7, min_momentum=0.5), True),
    (dict(policy="step", step=[5, 11], by_epoch=False), False),
    (dict(policy="CosineAnnealing", min_momentum_ratio=0.5), True),
    (dict(policy="CosineAnnealing", min_momentum=0.3, by_epoch=False), False),
    (dict(policy="LinearAnnealing", min_momentum=0.6), True),
    (dict(policy="LinearAnnealing", min_momentum_ratio=0.8, by_epoch=False), False),
    (dict(policy="cyclic"), False),
    (dict(policy="Cyclic", target_ratio=(0.8, 0.99), cyclic_times=2, step_ratio_up=0.5,
          gamma=0.9, anneal_strategy="linear"), False),
    (dict(policy="cyclic", target_ratio=0.9, step_ratio_up=0.0), False),
    (dict(policy="cyclic", target_ratio=(0.7,), cyclic_times=3), False),
    (dict(policy="OneCycle"), False),
    (dict(policy="OneCycle", three_phase=True, anneal_strategy="linear", base_momentum=0.8,
          max_momentum=0.97, pct_start=0.25), False),
]
WARMUPS = [{}, dict(warmup="constant", warmup_iters=7, warmup_ratio=0.8),
           dict(warmup="linear", warmup_iters=15), dict(warmup="exp", warmup_iters=5,
                                                          warmup_ratio=0.5)]
OPTIMIZERS = [("SGD", [0.9, 0.8, 0.95]), ("Adam", [0.9, 0.85])]
# (max_epochs, max_iters, iters per epoch, resume at): 5 epochs of 6 / 23 iterations
RUNS = {"epoch": (5, None, 6, 12), "iter": (None, 23, 6, 9)}


def cases():
    out = []
    for (config, by_epoch), warmup, (kind, momenta), run in itertools.product(
            POLICIES, WARMUPS, OPTIMIZERS, RUNS):
        if by_epoch and run == "iter":
            continue  # refused here (mmcv's IterBasedRunner would never update it)
        max_epochs, max_iters, ipe, resume_at = RUNS[run]
        for resume in (None, resume_at):
            out.append(dict(config={**config, **warmup}, max_epochs=max_epochs,
                            max_iters=max_iters, ipe=ipe, optimizer=kind, momenta=momenta,
                            resume_at=resume))
    return out


def run_case(case, hook_state=True):
    max_epochs, ipe = case["max_epochs"], case["ipe"]
    max_iters = case["max_iters"] if max_epochs is None else max_epochs * ipe
    schedule = MomentumSchedule.from_config(case["config"], max_epochs=max_epochs,
                                            max_iters=max_iters)
    return replay(case, max_iters, lambda: MomentumUpdaterHook(schedule),
                  lambda: momentum_optimizer(case["optimizer"], case["momenta"]),
                  current_momenta, momentum_groups, hook_state)


def test_every_policy_and_warmup_equals_mmcv(mmocr_ref):
    all_cases = cases()
    assert len(all_cases) > 250
    theirs = mmocr_ref.call(REF, "run_cases", cases=all_cases)
    for case, their in zip(all_cases, theirs):
        ours = run_case(case)
        assert ours["curve"] == their["curve"], case
        assert ours["groups"] == their["groups"], case
        if case["resume_at"]:
            # a checkpoint without the hook's state (written before momentum_config was set):
            # the base comes from the optimizer's initial_momentum, as mmcv's setdefault
            assert run_case(case, hook_state=False)["curve"] == their["curve"], case
    # the schedules do move: not every case is a constant
    assert sum(len({str(m) for m in t["curve"]}) > 1 for t in theirs) == len(theirs)


def test_the_same_names_and_arguments_are_refused(mmocr_ref):
    """What mmcv cannot build, ocr_ds refuses too (with a one-line UserError, before the run);
    what mmcv builds, ocr_ds takes."""
    configs = [dict(policy="onecycle"), dict(policy="cosineannealing", min_momentum=0.1),
               dict(policy="fixed"), dict(policy="poly"), dict(policy="Wobbly"),
               dict(policy="cyclic", by_epoch=True), dict(policy="OneCycle", by_epoch=True),
               dict(policy="step", step=2, warmup="cos"),
               dict(policy="step", step=2, warmup="linear", warmup_iters=0),
               dict(policy="step", step=2, warmup="linear", warmup_iters=4, warmup_ratio=0),
               dict(policy="step", step=2, warmup_by_epoch=True),
               dict(policy="step", step=2, min_lr=0.1),
               dict(policy="step", step=0), dict(policy="step", step="2"),
               dict(policy="CosineAnnealing"),
               dict(policy="CosineAnnealing", min_momentum=0.1, min_momentum_ratio=0.5),
               dict(policy="LinearAnnealing", min_lr_ratio=0.5),
               dict(policy="cyclic", target_ratio="high"),
               dict(policy="cyclic", step_ratio_up=1.0),
               dict(policy="cyclic", anneal_strategy="cosine"),
               dict(policy="OneCycle", pct_start=1.5), dict(policy="OneCycle", max_lr=0.1),
               dict(policy="OneCycle", anneal_strategy="exp"),
               # built by both
               dict(policy="Step", step=[2, 4]), dict(policy="cyclic", target_ratio=0.9),
               dict(policy="OneCycle", base_momentum=0.8, max_momentum=0.9)]
    theirs = mmocr_ref.call(REF, "refused", configs=configs)
    for config, their in zip(configs, theirs):
        if their is None:
            MomentumSchedule.from_config(config, max_epochs=4, max_iters=40)
        else:
            with pytest.raises(UserError) as info:
                MomentumSchedule.from_config(config, max_epochs=4, max_iters=40)
            assert str(info.value).startswith("momentum_config") and "\n" not in str(info.value)

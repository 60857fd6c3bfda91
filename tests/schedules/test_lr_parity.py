"""``lr_config`` against mmcv 1.7.2's own lr hooks (``mmocr_lr.py``, run in the reference venv):
every policy, ``by_epoch`` True and False, each warmup (``warmup_by_epoch`` too), mmcv's
EpochBasedRunner and IterBasedRunner order (hooks registered by the runner's own
``register_training_hooks``), SGD and Adam with several param groups of different lr, whole runs
and runs resumed half-way. Our :class:`~ocr_ds.engine.hooks.lr.LrUpdaterHook` (which writes
:meth:`LrSchedule.lr <ocr_ds.schedules.LrSchedule.lr>`), driven in our runner's order, must
leave the very same floats (``==``) in every param group before every iteration, and the same
``initial_lr`` after.

Not comparable with mmcv, so not here: ``warmup_by_epoch`` in an IterBasedRunner (mmcv's hook
asserts at the first iteration; ocr_ds counts passes over the loader,
``test_lr_warmup.py``). The configs: mmcv refuses (building the hook or mid-run) what ocr_ds
refuses up front, and builds what ocr_ds takes, but for what ocr_ds does differently on purpose:
``DELIBERATE``, each checked to still be what mmcv does.
"""
from __future__ import annotations

import itertools

import pytest

from ocr_ds.engine.hooks.lr import LrUpdaterHook
from ocr_ds.errors import UserError
from ocr_ds.schedules import LrSchedule
from parity import ref_file
from schedule_replay import current_lrs, lr_groups, lr_optimizer, replay

REF = ref_file(__file__, "mmocr_lr.py")

# spelt as users do ('step' and 'Step' both name StepLrUpdaterHook). Without by_epoch: by epoch
# in an EpochBasedRunner, by iteration in an IterBasedRunner (its register_training_hooks
# defaults by_epoch to False); by_epoch=True is left out of iteration runs (refused here)
POLICIES = [
    dict(policy="fixed"), dict(policy="fixed", by_epoch=True),
    dict(policy="step", step=2), dict(policy="Step", step=[1, 3], gamma=0.5, min_lr=2e-4),
    dict(policy="step", step=[5, 11, 17], by_epoch=False, min_lr=1e-4), dict(policy="step", step=[]),
    dict(policy="exp", gamma=0.8), dict(policy="Exp", gamma=0.97, by_epoch=False),
    dict(policy="poly"), dict(policy="poly", power=0.9, min_lr=1e-4, by_epoch=False),
    dict(policy="inv", gamma=0.1, power=0.75), dict(policy="inv", gamma=0.05, by_epoch=False),
    dict(policy="CosineAnnealing", min_lr_ratio=0.01),
    dict(policy="CosineAnnealing", min_lr=1e-4, by_epoch=False),
    dict(policy="FlatCosineAnnealing", min_lr=1e-5),
    dict(policy="FlatCosineAnnealing", start_percent=0.4, min_lr_ratio=0.1, by_epoch=False),
    dict(policy="CosineRestart", periods=[2, 4], restart_weights=[1, 0.5], min_lr=1e-4,
         by_epoch=True),
    dict(policy="CosineRestart", periods=[10, 12, 8], restart_weights=[1, 0.6, 0.3],
         min_lr_ratio=0.05),
    dict(policy="LinearAnnealing", min_lr=1e-3),
    dict(policy="LinearAnnealing", min_lr_ratio=0.2, by_epoch=False),
    dict(policy="cyclic"),
    dict(policy="Cyclic", target_ratio=5.0, cyclic_times=2, step_ratio_up=0.5, gamma=0.8,
         anneal_strategy="linear"),
    dict(policy="cyclic", target_ratio=(8.0,), cyclic_times=3),
    dict(policy="cyclic", target_ratio=(4.0, 0.01), step_ratio_up=0.0, cyclic_times=2, gamma=0.5),
    dict(policy="OneCycle", max_lr=0.2),
    dict(policy="OneCycle", max_lr=0.05, total_steps=40, pct_start=0.25, anneal_strategy="linear",
         div_factor=10, final_div_factor=100, three_phase=True),
    dict(policy="OneCycle", max_lr=0.3, three_phase=True, by_epoch=False),
]
WARMUPS = [{}, dict(warmup="constant", warmup_iters=7, warmup_ratio=0.5),
           dict(warmup="linear", warmup_iters=15), dict(warmup="exp", warmup_iters=5,
                                                          warmup_ratio=0.2),
           dict(warmup="linear", warmup_iters=2, warmup_ratio=0.01, warmup_by_epoch=True),
           dict(warmup="exp", warmup_iters=1, warmup_ratio=0.3, warmup_by_epoch=True)]
OPTIMIZERS = [("SGD", [0.1, 0.02, 0.05]), ("Adam", [1e-3, 3e-4])]
# (max_epochs, max_iters, iterations per epoch, resume at): 6 epochs of 5 / 23 iterations
RUNS = {"epoch": (6, None, 5, 15), "iter": (None, 23, 6, 9)}


def cases():
    out = []
    for config, warmup, (kind, lrs), run in itertools.product(POLICIES, WARMUPS, OPTIMIZERS,
                                                                RUNS):
        if run == "iter" and (config.get("by_epoch") and (warmup or config["policy"] != "fixed")
                              or warmup.get("warmup_by_epoch")):
            continue  # refused here / mmcv's hook asserts (see the module's docstring)
        max_epochs, max_iters, ipe, resume_at = RUNS[run]
        for resume in (None, resume_at):
            out.append(dict(config={**config, **warmup}, max_epochs=max_epochs,
                            max_iters=max_iters, ipe=ipe, optimizer=kind, lrs=lrs,
                            resume_at=resume))
    return out


def run_case(case, hook_state=True):
    max_epochs, ipe = case["max_epochs"], case["ipe"]
    max_iters = case["max_iters"] if max_epochs is None else max_epochs * ipe
    schedule = LrSchedule.from_config(case["config"], max_epochs=max_epochs,
                                      max_iters=max_iters, iters_per_epoch=ipe)
    return replay(case, max_iters, lambda: LrUpdaterHook(schedule),
                  lambda: lr_optimizer(case["optimizer"], case["lrs"]), current_lrs, lr_groups,
                  hook_state)


def test_every_policy_and_warmup_equals_mmcv(mmocr_ref):
    all_cases = cases()
    assert len(all_cases) > 1000
    theirs = mmocr_ref.call(REF, "run_cases", cases=all_cases)
    for case, their in zip(all_cases, theirs):
        ours = run_case(case)
        assert ours["curve"] == their["curve"], case
        assert ours["groups"] == their["groups"], case
        if case["resume_at"]:
            # a checkpoint without the hook's state (written before lr_config was set): the
            # base comes from the optimizer's initial_lr, as mmcv's setdefault
            assert run_case(case, hook_state=False)["curve"] == their["curve"], case
    # the schedules do move: every case but a constant lr (fixed, step=[]) without warmup
    moving = [len({str(lr) for lr in t["curve"]}) > 1 for t in theirs]
    still = [(c["config"]["policy"] == "fixed" or c["config"].get("step") == [])
             and "warmup" not in c["config"] for c in all_cases]
    assert moving == [not s for s in still]


# (config, run): built by mmcv and run through without an exception, or refused (building the
# hook or in the run), by both
SAME = [
    (dict(policy="Wobbly"), "epoch"), (dict(policy="cosineannealing", min_lr=0), "epoch"),
    (dict(policy="POLY"), "epoch"), (dict(by_epoch=True), "epoch"), (dict(policy=3), "epoch"),
    (dict(policy="poly", warmup="cos", warmup_iters=3), "epoch"),
    (dict(policy="poly", warmup="linear"), "epoch"),
    (dict(policy="poly", warmup="linear", warmup_iters=4, warmup_ratio=0), "epoch"),
    (dict(policy="poly", warmup="exp", warmup_iters=4, warmup_ratio=1.5), "epoch"),
    (dict(policy="poly", warmup="linear", warmup_iters=2.5), "epoch"),
    (dict(policy="poly", warmup_iters=2.5), "iter"),
    (dict(policy="poly", powr=2), "epoch"), (dict(policy="poly", power="2"), "epoch"),
    (dict(policy="step"), "epoch"), (dict(policy="step", step=0), "epoch"),
    (dict(policy="step", step="2"), "epoch"), (dict(policy="step", step=[2, 0]), "epoch"),
    (dict(policy="step", step=2, min_momentum=0.1), "epoch"),
    (dict(policy="exp"), "epoch"), (dict(policy="inv", power=2), "iter"),
    (dict(policy="CosineAnnealing"), "epoch"),
    (dict(policy="LinearAnnealing", min_lr=0, min_lr_ratio=0.1), "iter"),
    (dict(policy="FlatCosineAnnealing", min_lr=0, start_percent=1.5), "epoch"),
    (dict(policy="FlatCosineAnnealing", min_lr=0, start_percent=1), "epoch"),
    (dict(policy="CosineRestart", min_lr=0), "epoch"),
    (dict(policy="CosineRestart", periods=[2, 2], min_lr=0), "epoch"),
    (dict(policy="CosineRestart", periods=[2], restart_weights=[1]), "epoch"),
    (dict(policy="CosineRestart", periods=[], restart_weights=[], min_lr=0), "epoch"),
    (dict(policy="CosineRestart", periods=[3], min_lr=0), "epoch"),
    (dict(policy="CosineRestart", periods=[30], min_lr=0, by_epoch=False), "epoch"),
    (dict(policy="CosineRestart", periods=[39], min_lr=0), "iter"),
    (dict(policy="cyclic", by_epoch=True), "epoch"),
    (dict(policy="cyclic", target_ratio="high"), "iter"),
    (dict(policy="cyclic", target_ratio=(1.0, 2.0, 3.0)), "iter"),
    (dict(policy="cyclic", target_ratio=10), "iter"),
    (dict(policy="cyclic", step_ratio_up=1.0), "iter"), (dict(policy="cyclic", gamma=0), "iter"),
    (dict(policy="cyclic", anneal_strategy="cosine"), "iter"),
    (dict(policy="cyclic", cyclic_times=50), "iter"),
    (dict(policy="cyclic", cyclic_times=0), "epoch"),
    (dict(policy="OneCycle"), "iter"), (dict(policy="OneCycle", max_lr=0.1, by_epoch=True), "iter"),
    (dict(policy="OneCycle", max_lr="0.1"), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, total_steps=30), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, total_steps=45.0), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=1.5), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=1), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=0.025), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, anneal_strategy="exp"), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, div_factor=0), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, final_div_factor=0), "epoch"),
    # built and run by both
    (dict(policy="poly"), "iter"), (dict(policy="fixed", by_epoch=True), "iter"),
    (dict(policy="step", step=[]), "epoch"), (dict(policy="Step", step=[2, 4]), "iter"),
    (dict(policy="step", step=[2, 2]), "epoch"), (dict(policy="poly", warmup_ratio=5), "epoch"),
    (dict(policy="CosineRestart", periods=[2, 3], restart_weights=[1, 1], min_lr=0), "epoch"),
    (dict(policy="CosineRestart", periods=[50], min_lr=0), "iter"),
    (dict(policy="FlatCosineAnnealing", start_percent=1.0, min_lr_ratio=0.1), "iter"),
    (dict(policy="FlatCosineAnnealing", start_percent=0.0, min_lr=0), "epoch"),
    (dict(policy="cyclic", target_ratio=0.9), "iter"),
    (dict(policy="cyclic", cyclic_times=40), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, total_steps=45, pct_start=0.0), "iter"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=0.6, three_phase=True), "epoch"),
    (dict(policy="OneCycle", max_lr=0.1, pct_start=1.0), "iter"),
]
# where ocr_ds differs from mmcv on purpose (README "Learning-rate schedules"), with what mmcv does
DELIBERATE = [
    # refused here, built and run by mmcv
    (dict(policy="poly", by_epoch=True), "iter", None),  # the lr never moves there
    (dict(policy="step", step=[8, 4]), "epoch", None),  # works as [8, 8]: a typo
    (dict(policy="OneCycle", max_lr=[0.1]), "iter", None),  # one max_lr for all groups here
    (dict(policy="poly", by_epoch=1), "epoch", None),  # True or False only
    (dict(policy="poly", warmup_iters=-1), "epoch", None),  # ignored by mmcv without warmup
    (dict(policy="CosineRestart", periods=[0, 40], restart_weights=[1, 1], min_lr=0), "iter",
     None),  # works as [40]
    # taken here, refused by mmcv
    (dict(policy="poly", warmup="linear", warmup_iters=1, warmup_by_epoch=True), "iter",
     ("run", "AssertionError")),  # counts passes over the loader here
    (dict(policy="step", step=(2, 4)), "epoch", ("build", "TypeError")),  # a tuple for a list
    (dict(policy="cyclic", target_ratio=[5.0, 0.1]), "iter", ("build", "ValueError")),  # v.v.
]
RUN = {"epoch": dict(max_epochs=4, max_iters=None, ipe=10),
       "iter": dict(max_epochs=None, max_iters=40, ipe=10)}


def test_the_same_configs_are_refused(mmocr_ref):
    """What mmcv cannot build or run through, ocr_ds refuses up front (a one-line UserError
    naming the key); what mmcv builds and runs, ocr_ds takes; but for DELIBERATE."""
    configs = SAME + [(c, r) for c, r, _ in DELIBERATE]
    theirs = mmocr_ref.call(REF, "refused", cases=[dict(config=c, **RUN[r]) for c, r in configs])
    assert theirs[len(SAME):] == [m for _, _, m in DELIBERATE]
    assert sum(t is None for t in theirs[:len(SAME)]) == 15  # the rest: refused by mmcv
    for i, ((config, run), their) in enumerate(zip(configs, theirs)):
        length = RUN[run]
        build = lambda: LrSchedule.from_config(  # noqa: E731
            config, max_epochs=length["max_epochs"],
            max_iters=length["max_iters"] or length["max_epochs"] * length["ipe"],
            iters_per_epoch=length["ipe"])
        if (their is None) == (i < len(SAME)):
            build()
        else:
            with pytest.raises(UserError) as info:
                build()
            assert str(info.value).startswith("lr_config") and "\n" not in str(info.value)

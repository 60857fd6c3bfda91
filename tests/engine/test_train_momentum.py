"""``momentum_config`` in real training runs (ocr_ds/train.py on the toy model, DeepSpeed on the
CPU): before every step the optimizer DeepSpeed steps with holds the scheduled momentum (SGD's
``momentum``, Adam's ``betas[0]`` with ``betas[1]`` kept), it changes the training, and a resumed
run continues the schedule where the first left it (recorded by ``momentum_probe.py``)."""
from __future__ import annotations

import json
import os

import pytest
import torch

import helpers
from ocr_ds.schedules import MomentumSchedule

pytestmark = pytest.mark.slow
PROBE = os.path.join(os.path.dirname(__file__), "momentum_probe.py")
# 48 samples, 4 per batch: 12 iterations per epoch, 3 epochs
COSINE = ["momentum_config.policy=CosineAnnealing", "momentum_config.min_momentum_ratio=0.5",
          "momentum_config.warmup=linear", "momentum_config.warmup_iters=15"]
ITER_RUN = ["runner.type=IterBasedRunner", "runner.max_iters=20", "total_epochs=None",
            "lr_config.by_epoch=False", "checkpoint_config.by_epoch=False",
            "checkpoint_config.interval=8", "evaluation.by_epoch=False", "evaluation.interval=10"]
ONECYCLE = ["momentum_config.policy=OneCycle", "momentum_config.three_phase=True"]


def train(work_dir, options, *extra, config=helpers.TOY):
    options = ["--cfg-options", *options] if options else []
    helpers.train(["--work-dir", work_dir, "--seed", "5", "--deterministic", *extra, *options],
                  script=PROBE, config=config)
    with open(os.path.join(work_dir, "momenta.json")) as f:
        return json.load(f)


def expected(config, max_epochs, max_iters, base):
    schedule = MomentumSchedule.from_config(config, max_epochs=max_epochs, max_iters=max_iters)
    return [schedule.momentum(schedule.initial_momentum(base), it // 12, it)
            for it in range(max_iters)]


def test_sgd_momentum_follows_the_schedule_and_a_resume_continues_it(tmp_path):
    full, resumed, plain = (str(tmp_path / n) for n in ("full", "resumed", "plain"))
    steps = train(full, COSINE)
    assert [(s["epoch"], s["iter"]) for s in steps] == [(i // 12, i) for i in range(36)]
    assert {s["optimizer"] for s in steps} == {"SGD"}
    want = expected(dict(policy="CosineAnnealing", min_momentum_ratio=0.5, warmup="linear",
                         warmup_iters=15), 3, 36, 0.9)
    assert [s["groups"][0]["momentum"] for s in steps] == want
    assert len(set(want)) > 10  # warmup from 1.0 down, then per epoch 0.9, 0.7875, 0.5625

    after = train(resumed, COSINE, "--resume-from", os.path.join(full, "epoch_1"))
    assert [s["iter"] for s in after] == list(range(12, 36))
    assert after == steps[12:]
    last = "epoch_3"
    a, b = helpers.weights(os.path.join(full, last)), helpers.weights(os.path.join(resumed, last))
    assert all(torch.equal(a[k], b[k]) for k in a)

    # the momentum reached the optimizer's steps: without it the weights come out otherwise
    unscheduled = train(plain, [])
    assert {s["groups"][0]["momentum"] for s in unscheduled} == {0.9}
    c = helpers.weights(os.path.join(plain, last))
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_adam_betas_follow_onecycle_in_an_iteration_run_and_a_mid_epoch_resume(tmp_path):
    full, resumed = str(tmp_path / "full"), str(tmp_path / "resumed")
    adam = tmp_path / "adam.py"
    adam.write_text(f"_base_ = [{helpers.TOY!r}]\n"
                    "optimizer = dict(_delete_=True, type='Adam', lr=0.01, betas=(0.9, 0.99))\n")
    steps = train(full, ITER_RUN + ONECYCLE, config=str(adam))
    assert {s["optimizer"] for s in steps} == {"Adam"}  # torch's, on the cpu accelerator
    want = expected(dict(policy="OneCycle", three_phase=True), None, 20, 0.9)
    assert [s["groups"][0]["betas"] for s in steps] == [[m, 0.99] for m in want]
    assert all(s["groups"][0]["momentum"] is None for s in steps)
    # iter_16 lies inside the second pass over the loader
    after = train(resumed, ITER_RUN + ONECYCLE, "--resume-from", os.path.join(full, "iter_16"),
                  config=str(adam))
    assert after == steps[16:]

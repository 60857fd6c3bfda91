"""Resume on another number of ranks at every ZeRO stage (real DeepSpeed ranks).

Per stage, one chain: 1 rank trains epoch 1 -> 2 ranks resume it (``--resume-from``) and train
epoch 2 -> 1 rank continues that work dir (``--auto-resume``) and trains epoch 3. At stages 1-3
both resumes go through the universal conversion (:mod:`ocr_ds.engine.universal`); a ZeRO-0
checkpoint loads as it is, so the ZeRO-0 chain is the reference the others must match: ZeRO
changes where states live, not what is learned.
"""
from __future__ import annotations

import concurrent.futures
import glob
import json
import os

import pytest
import torch

import helpers

pytestmark = pytest.mark.slow
STAGES = (0, 1, 2, 3)
OPTS = ["--seed", "0", "--deterministic", "--no-validate"]
# the toy config: 48 samples, 4 per rank and iteration, SGD lr 0.05, poly 0.9 by iteration to 1e-4
SAMPLES, PER_RANK = 48, 4


def expected_lr(global_iter: int, max_iters: int) -> float:
    """mmcv's poly schedule of the toy config, written out: the oracle for 'lr continues'."""
    return (0.05 - 1e-4) * (1 - global_iter / max_iters) ** 0.9 + 1e-4


def _run(wd: str, ranks: int, epochs: int, stage: int, resume: str | None = None):
    args = ["--work-dir", wd, *OPTS]
    if resume == "auto":
        args += ["--auto-resume"]
    elif resume:
        args += ["--resume-from", resume]
    helpers.train([*args, "--cfg-options", f"total_epochs={epochs}",
                   f"deepspeed.zero_optimization.stage={stage}"], ranks=ranks)
    return wd


def _chain(base: str, stage: int) -> tuple[str, str]:
    a = _run(os.path.join(base, "a"), 1, 1, stage)
    b = _run(os.path.join(base, "b"), 2, 2, stage, os.path.join(a, "epoch_1"))
    _run(b, 1, 3, stage, "auto")  # a second run in b's work dir
    return a, b


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    # two chains at a time (helpers.train's free_port never hands this process a port twice)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {stage: pool.submit(_chain, str(tmp_path_factory.mktemp(f"resize{stage}")), stage)
                   for stage in STAGES}
        return {stage: f.result() for stage, f in futures.items()}


def _logs(wd: str, ext: str) -> list[str]:
    """The runs' logs in ``wd``, oldest first (their names are their start times)."""
    return sorted(glob.glob(os.path.join(wd, f"*{ext}")))


def _text(wd: str, run: int) -> str:
    with open(_logs(wd, ".log")[run]) as f:
        return f.read()


def _train_records(wd: str, run: int = 0) -> list[dict]:
    with open(_logs(wd, ".log.json")[run]) as f:
        return [r for r in map(json.loads, list(f)[1:]) if r["mode"] == "train"]


@pytest.mark.parametrize("stage", STAGES)
def test_resume_on_another_world_size(chains, stage):
    a, b = chains[stage]
    first_loss = _train_records(a)[0]["loss"]
    # 1 -> 2 ranks: 12 iterations of epoch 1 count as 6; epoch 2 runs 6 more (of 12 in all)
    log_b = _text(b, 0)
    assert "world size changed from 1 to 2: iteration 12 rescaled to 6" in log_b
    rec = _train_records(b)[0]
    assert (rec["epoch"], rec["iter"]) == (2, 2)
    assert rec["lr"] == pytest.approx(expected_lr(6 + 1, 12), abs=1e-5)  # the JSON log rounds
    assert rec["loss"] < 0.8 * first_loss  # continues the curve: no restart from scratch
    # 2 -> 1 rank: 12 iterations count as 24; epoch 3 runs 12 more (of 36)
    log_c = _text(b, 1)
    assert f"resumed from {os.path.join(b, 'epoch_2')}" in log_c  # found by --auto-resume
    assert "world size changed from 2 to 1: iteration 12 rescaled to 24" in log_c
    rec = _train_records(b, 1)[0]
    assert (rec["epoch"], rec["iter"]) == (3, 2)
    assert rec["lr"] == pytest.approx(expected_lr(24 + 1, 36), abs=1e-5)  # the JSON log rounds
    assert rec["loss"] < 0.8 * first_loss
    converted = [os.path.join(run, tag, "universal") for run, tag in ((a, "epoch_1"), (b, "epoch_2"))]
    assert [os.path.isdir(d) for d in converted] == [stage > 0] * 2
    for path in glob.glob(os.path.join(converted[0], "**", "*.pt"), recursive=True):
        torch.load(path, map_location="cpu", weights_only=True)  # as every file we write


def test_every_stage_resumes_to_the_same_weights(chains):
    """Weights, BatchNorm statistics and SGD momentum all carried over: the ZeRO-1/2/3 chains end
    where the ZeRO-0 chain does (momentum or statistics lost on the way would show here)."""
    ref = helpers.weights(os.path.join(chains[0][1], "epoch_3"))
    assert any("running_mean" in k for k in ref)
    for stage in STAGES[1:]:
        got = helpers.weights(os.path.join(chains[stage][1], "epoch_3"))
        assert got.keys() == ref.keys()
        for k in ref:
            assert torch.allclose(ref[k].float(), got[k].float(), atol=1e-5), (stage, k)

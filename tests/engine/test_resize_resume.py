"""Resume on another number of ranks at every ZeRO stage (real DeepSpeed ranks).

Per stage, one chain: 1 rank trains epoch 1 -> 2 ranks resume and train epoch 2 -> 1 rank
resumes and trains epoch 3. At stages 1-3 both resumes go through the universal conversion
(:mod:`ocr_ds.engine.universal`); a ZeRO-0 checkpoint loads as it is, so the ZeRO-0 chain is the
reference the others must match: ZeRO changes where states live, not what is learned.
"""
from __future__ import annotations

import glob
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
    if resume:
        args += ["--resume-from", resume]
    helpers.train([*args, "--cfg-options", f"total_epochs={epochs}",
                   f"deepspeed.zero_optimization.stage={stage}"], ranks=ranks)
    return wd


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    runs = {}
    for stage in STAGES:
        base = tmp_path_factory.mktemp(f"resize{stage}")
        a = _run(str(base / "a"), 1, 1, stage)
        b = _run(str(base / "b"), 2, 2, stage, os.path.join(a, "epoch_1"))
        c = _run(str(base / "c"), 1, 3, stage, os.path.join(b, "epoch_2"))
        runs[stage] = (a, b, c)
    return runs


def _train_records(wd: str) -> list[dict]:
    return [r for r in helpers.json_log(wd)[1:] if r["mode"] == "train"]


@pytest.mark.parametrize("stage", STAGES)
def test_resume_on_another_world_size(chains, stage):
    a, b, c = chains[stage]
    first_loss = _train_records(a)[0]["loss"]
    # 1 -> 2 ranks: 12 iterations of epoch 1 count as 6; epoch 2 runs 6 more (of 12 in all)
    log_b = helpers.text_log(b)
    assert "world size changed from 1 to 2: iteration 12 rescaled to 6" in log_b
    rec = _train_records(b)[0]
    assert (rec["epoch"], rec["iter"]) == (2, 2)
    assert rec["lr"] == pytest.approx(expected_lr(6 + 1, 12), abs=1e-5)  # the JSON log rounds
    assert rec["loss"] < 0.8 * first_loss  # continues the curve: no restart from scratch
    # 2 -> 1 rank: 12 iterations count as 24; epoch 3 runs 12 more (of 36)
    log_c = helpers.text_log(c)
    assert "world size changed from 2 to 1: iteration 12 rescaled to 24" in log_c
    rec = _train_records(c)[0]
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
    ref = helpers.weights(os.path.join(chains[0][2], "epoch_3"))
    assert any("running_mean" in k for k in ref)
    for stage in STAGES[1:]:
        got = helpers.weights(os.path.join(chains[stage][2], "epoch_3"))
        assert got.keys() == ref.keys()
        for k in ref:
            assert torch.allclose(ref[k].float(), got[k].float(), atol=1e-5), (stage, k)

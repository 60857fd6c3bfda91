"""ocr_ds/train.py with a ``workflow`` val phase, as users run it: the val loss records (text,
JSON, TensorBoard) hold the model's losses on data.val, computed here again from the saved
checkpoints (eval mode, no gradients); training counts as without the phase; a resumed run goes
on with the pattern; two ranks at ZeRO-3 average over ranks."""
from __future__ import annotations

import os
import re

import pytest
import torch

import helpers
from ocr_ds.datasets.toy import ToyDataset
from ocr_ds.engine.data import DistributedSampler
from ocr_ds.models.toy import ToyRegressor
from test_engine_units import TRAIN_LINE, VAL_LINE

pytestmark = pytest.mark.slow
WORKFLOW = "workflow=[(train,1),(val,1)]"
OPTS = ["--seed", "0", "--deterministic"]
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workflow_probe.py")
SYNC_PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sync_probe.py")
VAL_KEYS = ["mode", "epoch", "iter", "lr", "memory", "data_time", "loss_mse", "acc_dummy", "loss",
            "time"]


def sample_errors(checkpoint: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Per sample of the toy config's data.val (13 samples, seed 1): the squared and absolute
    errors of the checkpoint's model in eval mode, without gradients, each averaged over the
    sample's 4 outputs (the toy model's ``loss_mse`` and ``acc_dummy`` of a one-sample batch)."""
    model = ToyRegressor()
    model.load_state_dict(helpers.weights(checkpoint))
    model.eval()
    data = ToyDataset(num_samples=13, seed=1)
    with torch.no_grad():
        pred = model.net(data.imgs)
    return ((pred - data.targets) ** 2).mean(1), (pred - data.targets).abs().mean(1)


def val_loss_records(wd: str) -> list[dict]:
    return [r for r in helpers.json_log(wd)[1:] if r["mode"] == "val" and "loss" in r]


def epoch_lines(wd: str) -> list[str]:
    return [line.split(" - ocr_ds - INFO - ", 1)[1] for line in helpers.text_log(wd).splitlines()
            if " - ocr_ds - INFO - Epoch" in line]


@pytest.fixture(scope="module")
def whole_run(tmp_path_factory):
    wd = str(tmp_path_factory.mktemp("workflow"))
    helpers.train(["--work-dir", wd, *OPTS, "--cfg-options", WORKFLOW],
                  config=os.path.join(os.path.dirname(helpers.TOY), "toy_clip_tb.py"))
    return wd


def test_val_phase_logs_the_losses_on_data_val(whole_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    wd = whole_run
    lines = epoch_lines(wd)
    # per epoch: 6 training lines, the evaluation's metric line ([E][12]: the epoch's
    # iterations), then the val phase's losses ([E][4]: its 4 batches, 13 samples)
    for epoch in (1, 2, 3):
        block = lines[(epoch - 1) * 8: epoch * 8]
        assert all(TRAIN_LINE.match(l) and l.startswith(f"Epoch [{epoch}]") for l in block[:6])
        assert block[6].startswith(f"Epoch(val) [{epoch}][12]\tneg_mse_acc: ")
        assert VAL_LINE.match(block[7]), block[7]
        assert re.match(rf"Epoch\(val\) \[{epoch}\]\[4\]\tloss_mse: [\d.]+, acc_dummy: [\d.]+, "
                        r"loss: [\d.]+$", block[7]), block[7]
    assert len(lines) == 3 * 8
    records = val_loss_records(wd)
    assert [(r["epoch"], r["iter"]) for r in records] == [(1, 4), (2, 4), (3, 4)]
    for r in records:
        assert list(r) == VAL_KEYS  # mmcv's val record: lr, memory, then the log buffer's
        squared, absolute = sample_errors(os.path.join(wd, f"epoch_{r['epoch']}"))
        # one process: every sample once, batches weighted by their samples
        assert r["loss_mse"] == pytest.approx(float(squared.mean()), abs=1e-5)
        assert r["loss"] == r["loss_mse"]
        assert r["acc_dummy"] == pytest.approx(float(absolute.mean()), abs=1e-5)
    # training counts as without the val phase: 12 iterations an epoch, 3 epochs
    assert "Training finished: epoch 3, iter 36" in helpers.text_log(wd)
    assert len([r for r in helpers.json_log(wd)[1:] if r["mode"] == "train"]) == 18
    assert sorted(d for d in os.listdir(wd) if d.startswith("epoch_")) == [
        "epoch_1", "epoch_2", "epoch_3"]
    ea = EventAccumulator(os.path.join(wd, "tf_logs"))
    ea.Reload()
    assert [(e.step, round(e.value, 4)) for e in ea.Scalars("val/loss_mse")] == [
        (13 + 12 * i, round(r["loss_mse"], 4)) for i, r in enumerate(records)]
    assert [e.step for e in ea.Scalars("val/neg_mse_acc")] == [13, 25, 37]  # unchanged


def test_a_resumed_run_goes_on_with_the_pattern(whole_run, tmp_path):
    """Resumed from epoch_1: the val phase due after epoch 1, then epochs 2 and 3 each with
    theirs, the same numbers as the whole run."""
    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, *OPTS, "--resume-from", os.path.join(whole_run, "epoch_1"),
                   "--cfg-options", WORKFLOW],
                  config=os.path.join(os.path.dirname(helpers.TOY), "toy_clip_tb.py"))
    ours, whole = val_loss_records(wd), val_loss_records(whole_run)
    assert [r["epoch"] for r in ours] == [1, 2, 3]
    for a, b in zip(ours, whole):
        assert (a["loss_mse"], a["acc_dummy"]) == (b["loss_mse"], b["acc_dummy"])
    assert {r["epoch"] for r in helpers.json_log(wd)[1:] if r["mode"] == "train"} == {2, 3}
    wa, wb = helpers.weights(os.path.join(wd, "epoch_3")), helpers.weights(
        os.path.join(whole_run, "epoch_3"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_a_val_step_has_no_host_sync_of_its_own(tmp_path):
    """The val phase's losses stay on the device until its end (``sync_probe.py`` counts every
    host synchronisation per step): 20 samples, 5 batches, one read-back after the last."""
    import json

    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=1", WORKFLOW,
                   "data.val.num_samples=20"], script=SYNC_PROBE)
    with open(os.path.join(wd, "syncs_rank0.json")) as f:
        iters = json.load(f)["iters"]
    assert [r["iter"] for r in val_loss_records(wd)] == [5]
    # a val batch appears only where something synchronised in it (after epoch 1: -1001...)
    val = {-int(k) - 1000: v["ours"] for k, v in iters.items() if int(k) < 0}
    assert sorted(val) == [5], val
    assert any(e.startswith("Tensor.tolist ocr_ds/engine/workflow.py") for e in val[5]), val[5]


def test_iteration_run_val_phases_and_resume(tmp_path):
    """IterBasedRunner: 8 training iterations, 3 val iterations (one record), ...; resumed from
    iter_16 the val phase due there runs first, on the batches the whole run took."""
    from test_train_single import ITER_RUN

    run = [*ITER_RUN, "workflow=[(train,8),(val,3)]"]
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    helpers.train(["--work-dir", a, *OPTS, *run])
    whole = val_loss_records(a)
    assert [r["iter"] for r in whole] == [8, 16, 20]
    assert re.search(r" - INFO - Iter\(val\) \[8\]\tloss_mse: [\d.]+, acc_dummy: [\d.]+, "
                     r"loss: [\d.]+\n", helpers.text_log(a))
    helpers.train(["--work-dir", b, *OPTS, "--resume-from", os.path.join(a, "iter_16"), *run])
    resumed = val_loss_records(b)
    assert [r["iter"] for r in resumed] == [16, 20]
    assert [r["loss_mse"] for r in resumed] == [r["loss_mse"] for r in whole[1:]]


def test_two_ranks_zero3_average_over_ranks(tmp_path):
    """2 ranks at ZeRO-3, the engine's forward in eval mode without gradients: each rank's
    sample-weighted mean over its share of the padded sampler (13 samples: 7 a rank, one taken
    twice), rank 0's equal to its model's computed here from the checkpoint (rank 0's weights
    and BatchNorm statistics; rank 1's statistics differ, as in mmcv, and are not saved), and
    the record their mean over ranks, as mmcv's all-reduced log_vars give
    (``workflow_probe.py`` records the ranks' own means)."""
    import json

    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, *OPTS, "--cfg-options", WORKFLOW,
                   "deepspeed.zero_optimization.stage=3"], ranks=2, timeout=240, script=PROBE)
    records = val_loss_records(wd)
    assert [(r["epoch"], r["iter"]) for r in records] == [(1, 2), (2, 2), (3, 2)]
    ranks = []
    for r in (0, 1):
        with open(os.path.join(wd, f"val_losses.{r}.json")) as f:
            ranks.append(json.load(f))
    for record, rank0, rank1 in zip(records, *ranks):
        assert rank0["samples"] == rank1["samples"] == 7
        for key in ("loss_mse", "acc_dummy", "loss"):
            both = (rank0["local"][key] + rank1["local"][key]) / 2
            assert record[key] == pytest.approx(both, abs=1e-5)
            assert rank0["mean"][key] == rank1["mean"][key] == pytest.approx(both, abs=1e-12)
        assert rank0["local"]["loss"] != pytest.approx(rank1["local"]["loss"], abs=1e-4)
        squared, _ = sample_errors(os.path.join(wd, f"epoch_{record['epoch']}"))
        sampler = DistributedSampler(13, 2, 0, shuffle=True, seed=0)
        sampler.set_epoch(record["epoch"])  # the epochs done, as mmcv's DistSamplerSeedHook
        assert rank0["local"]["loss_mse"] == pytest.approx(float(squared[list(sampler)].mean()),
                                                           abs=1e-5)

"""One-process runs of ocr_ds/train.py: checkpoint policy, iteration runs and mid-epoch resume,
logs (text, JSON, TensorBoard), precision, seeds, clipping, NaN stop."""
from __future__ import annotations

import os
import re

import pytest
import torch

import helpers
from test_engine_units import TRAIN_LINE, VAL_LINE

pytestmark = pytest.mark.slow
ITER_RUN = ["--cfg-options", "runner.type=IterBasedRunner", "runner.max_iters=20",
            "total_epochs=None", "lr_config.by_epoch=False", "checkpoint_config.by_epoch=False",
            "checkpoint_config.interval=8", "evaluation.by_epoch=False", "evaluation.interval=10",
            "log_config.interval=5"]


def test_checkpoint_interval_keep_and_save_last(tmp_path):
    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, "--seed", "1", "--cfg-options", "total_epochs=5",
                   "checkpoint_config.interval=2", "checkpoint_config.max_keep_ckpts=1"])
    dirs = sorted(os.listdir(wd))
    assert [d for d in dirs if d.startswith("epoch_")] == ["epoch_5"]  # 2, 4 saved then removed
    assert len([d for d in dirs if d.startswith("best_neg_mse_acc_epoch_")]) == 1
    with open(os.path.join(wd, "latest")) as f:
        assert f.read() == "epoch_5"
    log = helpers.text_log(wd)
    assert "Saving checkpoint at epoch_2" in log and "Saving checkpoint at epoch_4" in log
    assert "Saving checkpoint at epoch_3" not in log


def test_iteration_run_and_mid_epoch_resume_are_identical(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    helpers.train(["--work-dir", a, "--seed", "3", "--deterministic", *ITER_RUN])
    assert sorted(d for d in os.listdir(a) if d.startswith("iter_")) == ["iter_16", "iter_20", "iter_8"]
    log = helpers.text_log(a)
    assert re.search(r"Iter \[20/20\]\tlr: ", log) and "Iter(val) [20]" in log
    # iter_16 lies inside the second epoch (12 iterations per epoch): the sampler must skip
    helpers.train(["--work-dir", b, "--seed", "3", "--deterministic", "--resume-from",
                   os.path.join(a, "iter_16"), *ITER_RUN])
    wa, wb = helpers.weights(os.path.join(a, "iter_20")), helpers.weights(os.path.join(b, "iter_20"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_auto_resume_continues_from_latest(tmp_path):
    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, "--seed", "2", "--cfg-options", "total_epochs=1"])
    proc = helpers.train(["--work-dir", wd, "--seed", "2", "--auto-resume", "--cfg-options",
                          "total_epochs=2"])
    assert "resumed from" in proc.stdout and os.path.isdir(os.path.join(wd, "epoch_2"))


def test_logs_text_json_and_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, "--seed", "0"],
                  config=os.path.join(os.path.dirname(helpers.TOY), "toy_clip_tb.py"))
    lines = [l.split(" - ocr_ds - INFO - ", 1)[1] for l in helpers.text_log(wd).splitlines()
             if " - ocr_ds - INFO - Epoch" in l]
    train = [l for l in lines if l.startswith("Epoch [")]
    val = [l for l in lines if l.startswith("Epoch(val)")]
    assert len(train) == 3 * 6 and len(val) == 3
    assert all(TRAIN_LINE.match(l) for l in train), train[0]
    assert all(VAL_LINE.match(l) for l in val), val[0]
    assert "grad_norm: " in train[0]  # clipping on -> grad_norm logged
    # the log says which memory its `memory` field is (a CPU rank here)
    assert " - ocr_ds - INFO - memory: peak resident memory of the process (ru_maxrss" in \
        helpers.text_log(wd)
    records = helpers.json_log(wd)
    first = records[1]
    assert list(first)[:5] == ["mode", "epoch", "iter", "lr", "memory"]
    assert first["mode"] == "train" and first["iter"] == 2 and "loss_mse" in first and "time" in first
    ea = EventAccumulator(os.path.join(wd, "tf_logs"))
    ea.Reload()
    tags = ea.Tags()["scalars"]
    assert {"train/loss", "train/loss_mse", "learning_rate", "momentum",
            "val/neg_mse_acc"} <= set(tags)
    momenta = ea.Scalars("momentum")  # mmcv: with every record (training lines, evaluations)
    assert len(momenta) == 3 * 6 + 3 and {round(e.value, 6) for e in momenta} == {0.9}
    assert [e.step for e in ea.Scalars("val/neg_mse_acc")] == [13, 25, 37]  # mmcv: runner.iter + 1 after the epoch


@pytest.mark.parametrize("opt", ["bf16.enabled=True", "autocast.dtype=bfloat16"])
def test_bf16_and_autocast_train_on_cpu(tmp_path, opt):
    wd = str(tmp_path)
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", opt])
    losses = [r["loss"] for r in helpers.json_log(wd)[1:] if r["mode"] == "train"]
    assert all(l == l for l in losses) and sum(losses[-3:]) < sum(losses[:3])


def test_fp16_autocast_logs_the_unscaled_grad_norm(tmp_path):
    """fp16 autocast without ZeRO runs DeepSpeed's GradScaler (2**16 at first): the logged
    grad_norm is the norm of the true gradients that clipping sees, as in fp32."""
    norms = {}
    for name, opts in (("fp32", []), ("fp16", ["autocast.dtype=float16"])):
        wd = str(tmp_path / name)
        helpers.train(["--work-dir", wd, "--seed", "0", "--deterministic", "--cfg-options",
                       "total_epochs=1", "log_config.interval=1", *opts],
                      config=os.path.join(os.path.dirname(helpers.TOY), "toy_clip_tb.py"))
        norms[name] = [r["grad_norm"] for r in helpers.json_log(wd)[1:]
                       if r["mode"] == "train"][:3]
    assert len(norms["fp16"]) == 3 and all(n > 0 for n in norms["fp32"])
    for ours, fp32 in zip(norms["fp16"], norms["fp32"]):
        assert 0.9 < ours / fp32 < 1.1, norms


def test_deterministic_runs_repeat_and_seed_is_drawn_and_saved(tmp_path):
    curves = []
    for name in ("a", "b"):
        wd = str(tmp_path / name)
        helpers.train(["--work-dir", wd, "--seed", "5", "--deterministic", "--cfg-options", "total_epochs=1"])
        curves.append([r["loss"] for r in helpers.json_log(wd)[1:] if r["mode"] == "train"])
    assert curves[0] == curves[1]
    wd = str(tmp_path / "noseed")
    proc = helpers.train(["--work-dir", wd, "--cfg-options", "total_epochs=1"])
    seed = int(re.search(r"Set random seed to (\d+)", proc.stdout).group(1))
    assert helpers.json_log(wd)[0]["seed"] == seed
    import json
    with open(os.path.join(wd, "epoch_1", "ocr_ds_meta.json")) as f:
        assert json.load(f)["seed"] == seed


def test_nan_loss_stops_with_a_clear_message(tmp_path):
    wd = str(tmp_path)
    proc = helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "model.nan_at_iter=15"],
                         check=False)
    assert proc.returncode == 1
    assert "error: loss is not finite (nan on rank 0) at iteration 15 (epoch 2)" in proc.stderr
    assert "Traceback" not in proc.stderr
    with open(os.path.join(wd, "latest")) as f:
        assert f.read() == "epoch_1"  # the last good checkpoint is intact


def test_load_from_reports_key_mismatch(tmp_path):
    wd = str(tmp_path)
    sd = {"net.1.weight": torch.zeros(32, 64), "net.1.bias": torch.zeros(32),
          **{f"net.2.{k}": torch.ones(32) for k in ("weight", "bias", "running_mean",
                                                     "running_var")},
          "net.2.num_batches_tracked": torch.tensor(0), "extra.weight": torch.zeros(1)}
    torch.save(sd, tmp_path / "w.pth")
    proc = helpers.train(["--work-dir", wd, "--load-from", str(tmp_path / "w.pth"), "--cfg-options",
                          "total_epochs=1"])
    assert "load_from: 1 tensors in the checkpoint but not in the model (ignored): " \
           "extra.weight" in proc.stdout
    assert "load_from: 2 tensors missing in the checkpoint (kept at their initial values): " \
           "net.4.weight, net.4.bias" in proc.stdout
    assert f"load_from {tmp_path / 'w.pth'}: loaded 7 tensors; 2 missing, 1 unexpected" \
        in proc.stdout


def test_load_from_another_model_is_a_one_line_error(tmp_path):
    torch.save({"backbone.conv1.weight": torch.zeros(1)}, tmp_path / "w.pth")
    proc = helpers.train(["--work-dir", str(tmp_path / "wd"), "--load-from",
                          str(tmp_path / "w.pth")], check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"error: load_from: expected a checkpoint of this ToyRegressor (got {tmp_path / 'w.pth'}, "
        "which has 0 of its 9 tensors by name and shape; e.g. net.1.weight missing; "
        "net.1.bias missing)")
    assert "Traceback" not in proc.stderr
    assert not os.path.exists(tmp_path / "wd")


def test_gradient_accumulation_runs_through_deepspeed(tmp_path):
    wd = str(tmp_path)
    proc = helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options",
                          "optimizer_config.type=GradientCumulativeOptimizerHook",
                          "optimizer_config.cumulative_iters=3"])
    assert '"gradient_accumulation_steps": 3' in proc.stdout
    assert '"train_batch_size": 12' in proc.stdout
    records = [r for r in helpers.json_log(wd)[1:] if r["mode"] == "train"]
    assert len(records) == 18  # iterations are micro-batches, as in mmcv: 12 per epoch
    assert sum(r["loss"] for r in records[-3:]) < sum(r["loss"] for r in records[:3])
    with open(os.path.join(wd, "epoch_3", "ocr_ds_meta.json")) as f:
        import json
        assert json.load(f)["iter"] == 36


def test_evaluation_out_dir_holds_the_best_checkpoint(tmp_path):
    """mmcv's EvalHook(out_dir=...): the best checkpoint goes to out_dir/<work dir's name>."""
    wd, out = str(tmp_path / "run1"), str(tmp_path / "best")
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=2",
                   f"evaluation.out_dir={out}"])
    assert [d for d in os.listdir(wd) if d.startswith("best_")] == []
    (best,) = os.listdir(os.path.join(out, "run1"))
    assert best.startswith("best_neg_mse_acc_epoch_")
    assert helpers.weights(os.path.join(out, "run1", best))


def test_text_logger_exp_name_and_out_dir(tmp_path):
    """mmcv's TextLoggerHook: 'Exp name: <config>' before a record every interval_exp_name
    iterations and at each epoch's end; out_dir gets the work dir's logs and config at the end
    (out_dir/<work dir name>), removed locally with keep_local=False."""
    wd, out = str(tmp_path / "run1"), str(tmp_path / "logs")
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options",
                   f"log_config.hooks.0.out_dir={out}", "log_config.hooks.0.keep_local=False",
                   "log_config.hooks.0.interval_exp_name=5"])
    copied = sorted(os.listdir(os.path.join(out, "run1")))
    (log,) = [n for n in copied if n.endswith(".log")]
    assert copied == sorted([log, log + ".json", "toy.py"])
    assert not [n for n in os.listdir(wd) if n.endswith((".log", ".log.json", ".py"))]
    lines = [line.split(" - ocr_ds - INFO - ", 1)[-1]
             for line in open(os.path.join(out, "run1", log)).read().splitlines()]
    heads = [line.split("\t")[0] for line in lines
             if line.startswith(("Exp name", "Epoch [", "Epoch(val)"))]
    exp = [i for i, h in enumerate(heads) if h == "Exp name: toy.py"]
    # before the lines at iterations 10, 20, 30 (every 5, logged every 2) and before each
    # epoch's last training line and its evaluation
    after = [heads[i + 1] for i in exp]
    assert after == ["Epoch [1][10/12]", "Epoch [1][12/12]", "Epoch(val) [1][12]",
                     "Epoch [2][8/12]", "Epoch [2][12/12]", "Epoch(val) [2][12]",
                     "Epoch [3][6/12]", "Epoch [3][12/12]", "Epoch(val) [3][12]"]


def test_an_epochs_unlogged_tail_is_not_carried_over(tmp_path):
    """mmcv clears the log buffer at each epoch's start: with 12 iterations an epoch, logging
    every 5 and ignore_last, iterations 11-12 are never logged and epoch 2's first line is the
    mean of its own iterations 1-5 (checked against a run logging every iteration)."""
    runs = {}
    for interval in (1, 5):
        wd = str(tmp_path / f"every{interval}")
        helpers.train(["--work-dir", wd, "--seed", "0", "--deterministic", "--cfg-options",
                       "total_epochs=2", f"log_config.interval={interval}"])
        runs[interval] = [r for r in helpers.json_log(wd)[1:] if r["mode"] == "train"]
    every = {(r["epoch"], r["iter"]): r["loss_mse"] for r in runs[1]}
    assert [(r["epoch"], r["iter"]) for r in runs[5]] == [(1, 5), (1, 10), (2, 5), (2, 10)]
    first_of_2 = runs[5][2]["loss_mse"]
    assert first_of_2 == pytest.approx(sum(every[(2, i)] for i in range(1, 6)) / 5, abs=2e-5)

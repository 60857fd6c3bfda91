"""A training step issues no host synchronisation and no collective of its own (issue 17).

Two real DeepSpeed CPU ranks train the toy model with clipping on (so the grad-norm path runs)
under ``sync_probe.py``, which counts every ``Tensor.item``/``tolist``/``float()``/... and every
``torch.distributed`` call per iteration and by caller. Between logging iterations only
DeepSpeed's own gradient all-reduce may run; at logging iterations our checks and averages do.
That holds with ``stop_check_interval`` at the log interval (the ranks then agree on a stop
request at logging iterations too); its default, 'auto', adds a sync point about every 2 seconds
of training, which for the toy's millisecond steps means none between logging iterations once
the first steps are timed.
The non-finite-loss stop itself is tested in test_train_single.py and tests/faults/.
"""
from __future__ import annotations

import json
import os

import pytest

import helpers

pytestmark = pytest.mark.slow
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sync_probe.py")
CLIP = os.path.join(os.path.dirname(helpers.TOY), "toy_clip_tb.py")
LOG_INTERVAL = 3


def test_no_sync_or_collective_between_logging_iterations(tmp_path):
    wd = str(tmp_path)
    # 48 samples / (4 per rank x 2 ranks) = 6 iterations per epoch; logged at 3 and 6
    # with the CPU-safe speed settings on: their step must stay as quiet
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=1",
                   f"log_config.interval={LOG_INTERVAL}", "channels_last=True",
                   "fused_optimizer=True", f"stop_check_interval={LOG_INTERVAL}"], ranks=2, config=CLIP, script=PROBE)
    for rank in (0, 1):
        with open(os.path.join(wd, f"syncs_rank{rank}.json")) as f:
            probe = json.load(f)
        # the ranks were started by the deepspeed launcher with nothing exported
        assert probe["malloc"] == "keep", probe["malloc"]
        iters = {int(k): v for k, v in probe["iters"].items() if int(k) > 0}
        assert sorted(iters) == [1, 2, 3, 4, 5, 6]
        quiet = [i for i in iters if i % LOG_INTERVAL]
        for i in quiet:
            assert iters[i]["ours"] == [], (rank, i, iters[i]["ours"])
            # what DeepSpeed does per step: its gradient all-reduce, nothing that waits on us
            assert iters[i]["deepspeed"] == iters[quiet[0]]["deepspeed"], (rank, i)
            assert all(e.startswith("dist.all_reduce") for e in iters[i]["deepspeed"])
        assert iters[1]["deepspeed"], "the gradient all-reduce was not seen: probe broken?"
        # the checks moved to the logging iterations: one non-finite check, one average
        logged = iters[LOG_INTERVAL]["ours"]
        assert sum(e.startswith("dist.all_reduce ocr_ds/engine/dist.py") for e in logged) >= 2


def test_default_auto_interval_adds_no_sync_between_logging_iterations(tmp_path):
    wd = str(tmp_path)
    # 72 samples / (4 per rank x 2 ranks) = 9 iterations; logged at 3, 6 and 9
    helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=1",
                   "data.train.num_samples=72", f"log_config.interval={LOG_INTERVAL}"],
                  ranks=2, config=CLIP, script=PROBE)
    for rank in (0, 1):
        with open(os.path.join(wd, f"syncs_rank{rank}.json")) as f:
            iters = {int(k): v for k, v in json.load(f)["iters"].items() if int(k) > 0}
        assert sorted(iters) == list(range(1, 10))
        # the first iteration is a sync point (it times the first step); after the first
        # logging iteration the agreed interval is far beyond the next logging iteration
        assert any(e.startswith("dist.all_reduce ocr_ds/engine/dist.py")
                   for e in iters[1]["ours"]), iters[1]
        for i in (4, 5, 7, 8):
            assert iters[i]["ours"] == [], (rank, i, iters[i]["ours"])


def test_nan_on_one_rank_stops_every_rank_before_the_next_checkpoint(tmp_path):
    """The check runs at logging iterations only, yet a NaN on rank 1 alone stops both ranks
    with the iteration it happened at, before the epoch-2 checkpoint is written."""
    wd = str(tmp_path)
    # 6 iterations per epoch; the NaN at iteration 8 (epoch 2) is found at the log of 9
    proc = helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=2",
                          f"log_config.interval={LOG_INTERVAL}", "evaluation.interval=100",
                          "model.nan_at_iter=8", "model.nan_on_rank=1"], ranks=2, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-4000:]
    # both ranks stop with the same message (rank 0 never saw a NaN itself)
    message = "error: loss is not finite (nan on rank 1) at iteration 8 (epoch 2)"
    assert out.count(message) == 2, out[-4000:]
    assert "Traceback" not in out, out[-4000:]
    with open(os.path.join(wd, "latest")) as f:
        assert f.read() == "epoch_1"  # the last good checkpoint is intact
    assert not os.path.exists(os.path.join(wd, "epoch_2"))

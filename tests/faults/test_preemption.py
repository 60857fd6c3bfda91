"""Preemption: a stop signal to one rank mid-epoch -> every rank finishes that iteration -> one
complete checkpoint -> exit 75 -> --auto-resume ends with the weights of an uninterrupted run,
bit for bit (real DeepSpeed ranks). Plus the pieces that need no ranks."""
from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch

import helpers
from ocr_ds.engine import stop
from ocr_ds.errors import UserError

# 960 samples, 4 per rank: 120 iterations per epoch on 2 ranks; SIGUSR1 is a stop signal here
RUN = ["--seed", "0", "--deterministic", "--no-validate", "--stop-signal", "SIGUSR1",
       "--cfg-options", "total_epochs=2", "data.train.num_samples=960", "log_config.interval=5",
       "deepspeed.zero_optimization.stage=1"]


def _latest(wd: str) -> str:
    with open(os.path.join(wd, "latest")) as f:
        return f.read()


def _wait_for(pred, timeout: float, proc: subprocess.Popen, what: str) -> None:
    deadline = time.time() + timeout
    while not pred():
        assert proc.poll() is None, f"run ended before {what}: {proc.communicate()}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _logged(wd: str, text: str) -> bool:
    try:
        return text in helpers.text_log(wd)
    except (ValueError, OSError):
        return False


@pytest.mark.slow
def test_stop_signal_to_one_rank_then_auto_resume_is_bit_identical(tmp_path):
    ref, wd = str(tmp_path / "ref"), str(tmp_path / "stopped")
    # the uninterrupted run, side by side with the one that is stopped
    ref_log = open(tmp_path / "ref.out", "w+")
    ref_run = subprocess.Popen(helpers.command(["--work-dir", ref, *RUN], ranks=2), cwd=helpers.ROOT,
                               env=helpers.env(), stdout=ref_log, stderr=subprocess.STDOUT)
    proc = subprocess.Popen(helpers.command(["--work-dir", wd, *RUN], ranks=2), cwd=helpers.ROOT,
                            env=helpers.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        _wait_for(lambda: _logged(wd, "Epoch [1][10/120]"), 240, proc, "iteration 10")
        (rank1,) = [p for p in psutil.Process(proc.pid).children(recursive=True)
                    if "--local_rank=1" in " ".join(p.cmdline())]
        rank1.send_signal(signal.SIGUSR1)  # rank 0 hears nothing: it must stop with rank 1
        out, _ = proc.communicate(timeout=120)
        ref_run.wait(timeout=240)
    finally:
        for p in (proc, ref_run):
            if p.poll() is None:
                p.kill()
        ref_log.close()
    assert ref_run.returncode == 0, (tmp_path / "ref.out").read_text()[-3000:]
    assert proc.returncode == stop.EXIT_STOPPED, out[-3000:]
    tag = _latest(wd)
    assert tag.startswith("iter_"), tag  # inside epoch 1: a mid-epoch checkpoint
    with open(os.path.join(wd, tag, "ocr_ds_meta.json")) as f:
        meta = json.load(f)
    assert meta["stop"] == "received SIGUSR1 (rank 1)" and 0 < meta["inner_iter"] < 120
    log = helpers.text_log(wd)
    assert f"stopping after iteration {meta['iter']} (epoch 1): received SIGUSR1 (rank 1)" in log
    assert "run again with --auto-resume" in log and "Traceback" not in out

    helpers.train(["--work-dir", wd, "--auto-resume", *RUN], ranks=2)
    with open(sorted(glob.glob(os.path.join(wd, "*.log")))[-1]) as f:  # the second run's log
        assert f"resumed from {os.path.join(wd, tag)}" in f.read()
    a, b = helpers.weights(os.path.join(ref, "epoch_2")), helpers.weights(os.path.join(wd, "epoch_2"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # the stop checkpoint went once a scheduled one held later progress
    assert not os.path.exists(os.path.join(wd, tag)) and _latest(wd) == "epoch_2"


def test_stop_signals_from_flag_or_config():
    assert stop.stop_signals() == (signal.SIGTERM,)
    assert stop.stop_signals(None, {"stop_signal": "USR1"}) == (signal.SIGTERM, signal.SIGUSR1)
    assert stop.stop_signals("SIGUSR2", {"stop_signal": "USR1"}) == (signal.SIGTERM, signal.SIGUSR2)
    assert stop.stop_signals(None, {"stop_signal": ["SIGUSR1", 12]})[1:] == (signal.SIGUSR1,
                                                                            signal.SIGUSR2)
    for bad, key in (("SIGFOO", "--stop-signal"), ("KILL", "--stop-signal"), ("INT", "--stop-signal")):
        with pytest.raises(UserError, match=f"^{key}: expected a signal name"):
            stop.stop_signals(bad)
    with pytest.raises(UserError, match=r"^stop_signal: expected a signal name .* \(got 3\.5\)"):
        stop.stop_signals(None, {"stop_signal": 3.5})


def test_stop_check_interval_auto_meets_about_every_two_seconds():
    assert stop.check_interval() == "auto" and stop.check_interval({"stop_check_interval": 7}) == 7
    for bad in (0, -1, 2.5, True, "often"):
        with pytest.raises(UserError, match=r"^stop_check_interval: expected a positive integer, "
                                            r".* or 'auto' \(got "):
            stop.check_interval({"stop_check_interval": bad})
    assert stop.AUTO_CHECK_SECONDS == 2.0
    assert stop.auto_interval(10, 0.5) == 40     # fast steps (50 ms): one sync point in 40
    assert stop.auto_interval(3, 3.0) == 2       # 1 s steps: every other iteration
    assert stop.auto_interval(4, 20.0) == 1      # slow steps: every iteration
    assert stop.auto_interval(0, 1.0) == 1 and stop.auto_interval(5, 0.0) == 1


def test_bad_stop_signal_flag_is_one_line_and_creates_nothing(tmp_path):
    proc = helpers.train(["--work-dir", str(tmp_path / "wd"), "--stop-signal", "SIGNOPE"],
                         check=False, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --stop-signal: expected a signal name such as 'SIGUSR1' or 'SIGTERM' (not SIGKILL, "
        "SIGSTOP or SIGINT) (got 'SIGNOPE')"]
    assert not os.path.exists(tmp_path / "wd")


_CHILD = """
import os, sys, time
sys.path.insert(0, {root!r})
from ocr_ds.engine import stop
print("watching", [pid for pid, _, _ in stop.watch_launchers(interval=0.1)], flush=True)
deadline = time.time() + 20
while stop.requested() is None and time.time() < deadline:
    time.sleep(0.05)
print("reason", stop.requested(), flush=True)
"""


def test_a_rank_asks_to_stop_when_its_launcher_is_gone(tmp_path):
    """The launcher watch: the process named by OCR_DS_LAUNCHER_PID (what train.py --gpus sets)
    exits; the rank, now orphaned, asks to stop by itself."""
    script = tmp_path / "child.py"
    script.write_text(_CHILD.format(root=helpers.ROOT))
    out = tmp_path / "out"
    # the "launcher": a shell that starts the rank with its own pid in the environment, then exits
    subprocess.run(["bash", "-c", f'OCR_DS_LAUNCHER_PID=$$ {sys.executable} {script} > {out} & '
                    "sleep 1"], check=True, timeout=30)
    deadline = time.time() + 20
    while "reason" not in out.read_text() and time.time() < deadline:
        time.sleep(0.1)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("watching [") and lines[0] != "watching []", lines
    assert lines[1].startswith("reason the launcher process ") and lines[1].endswith(" is gone"), lines

"""Faults lose nothing: a killed rank, a kill during a save, a full disk (real processes)."""
from __future__ import annotations

import glob
import os
import subprocess
import time

import psutil
import pytest
import torch

import helpers

pytestmark = pytest.mark.slow
RUN = ["--seed", "0", "--deterministic", "--cfg-options", "total_epochs=4", "evaluation.interval=100",
       "data.train.num_samples=192"]


def _latest(wd: str) -> str:
    with open(os.path.join(wd, "latest")) as f:
        return f.read()


def _start(args: list[str], ranks: int, extra_env: dict | None = None,
           port: int | None = None) -> subprocess.Popen:
    env = dict(helpers.env(), **(extra_env or {}))
    return subprocess.Popen(helpers.command(args, ranks, port=port), cwd=helpers.ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("stage", [0, 2])
def test_sigkill_one_rank_then_auto_resume_matches_uninterrupted(stage, tmp_path):
    opts = [*RUN, f"deepspeed.zero_optimization.stage={stage}"]
    ref, wd = str(tmp_path / "ref"), str(tmp_path / "killed")
    ref_port = helpers.free_port()
    # the uninterrupted reference runs beside the killed job and its resume (as in
    # test_preemption.py), killed with them if the test fails first
    ref_log = open(tmp_path / "ref.out", "w+")
    ref_run = subprocess.Popen(helpers.command(["--work-dir", ref, *opts], ranks=2, port=ref_port),
                               cwd=helpers.ROOT, env=helpers.env(), stdout=ref_log,
                               stderr=subprocess.STDOUT)
    try:
        port = helpers.free_port()
        proc = _start(["--work-dir", wd, *opts], ranks=2, port=port)
        deadline = time.time() + 240
        # kill as soon as the first checkpoint is complete: the rest of the run (3+ epochs of 24
        # iterations) leaves a wide margin on a fast or a loaded machine
        while not os.path.exists(os.path.join(wd, "latest")):
            assert proc.poll() is None and time.time() < deadline, "run ended before a checkpoint"
            time.sleep(0.05)
        victims = [p for p in psutil.Process(proc.pid).children(recursive=True)
                   if "--local_rank=1" in " ".join(p.cmdline())]
        assert victims, "rank 1 not found"
        victims[0].kill()
        t0 = time.time()
        proc.communicate(timeout=60)  # the whole job must go down within 60 s
        assert proc.returncode != 0 and time.time() - t0 < 60
        # nor may the killed job leave DeepSpeed's shared-memory buffers behind in /dev/shm
        assert not glob.glob(f"/dev/shm/deepspeed_allreduce_buffer_*_{port}_*")

        helpers.train(["--work-dir", wd, "--auto-resume", *opts], ranks=2)
        ref_run.wait(timeout=300)
    finally:
        if ref_run.poll() is None:
            ref_run.kill()
        ref_log.close()
    assert ref_run.returncode == 0, (tmp_path / "ref.out").read_text()[-3000:]
    assert not glob.glob(f"/dev/shm/deepspeed_allreduce_buffer_*_{ref_port}_*")
    a, b = helpers.weights(os.path.join(ref, "epoch_4")), helpers.weights(os.path.join(wd, "epoch_4"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_sigkill_during_save_leaves_latest_complete(tmp_path):
    wd = str(tmp_path)
    proc = _start(["--work-dir", wd, *RUN], ranks=1,
                  extra_env={"OCR_DS_FAILPOINT": "kill_in_save:epoch_2"})
    proc.communicate(timeout=240)
    assert proc.returncode == -9
    assert os.path.isdir(os.path.join(wd, "epoch_2"))  # DeepSpeed's files were written...
    assert not os.path.exists(os.path.join(wd, "epoch_2", "ocr_ds_meta.json"))  # ...not declared
    assert _latest(wd) == "epoch_1"
    from ocr_ds.engine.checkpoint import find_resume

    assert find_resume(wd) == os.path.join(wd, "epoch_1")
    assert helpers.weights(wd)  # 'latest' loads
    out = helpers.train(["--work-dir", wd, "--auto-resume", *RUN])
    assert f"resumed from {os.path.join(wd, 'epoch_1')}" in out.stdout
    assert _latest(wd) == "epoch_4"


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mnt)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield str(mnt)
    subprocess.run(["umount", "-l", str(mnt)])


def test_full_disk_is_a_clear_error_and_latest_stays_valid(small_disk):
    wd = os.path.join(small_disk, "wd")
    proc = helpers.train(["--work-dir", wd, *RUN], check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: could not write checkpoint ") and "'latest' still names" in last
    assert "Traceback" not in proc.stderr
    tag = _latest(wd)
    assert tag.startswith("epoch_") and os.path.exists(os.path.join(wd, tag, "ocr_ds_meta.json"))
    assert helpers.weights(os.path.join(wd, tag))


RAISING_HOOK = '''
from ocr_ds.engine.hooks.base import Hook
from ocr_ds.registry import HOOKS


@HOOKS.register_module()
class RaiseAt(Hook):
    def __init__(self, at):
        self.at = at

    def after_train_iter(self, runner):
        if runner.iter + 1 == self.at:
            raise RuntimeError(f'user hook bug at iteration {self.at}')
'''


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_an_exception_with_loader_workers_exits_instead_of_hanging(start, tmp_path):
    """A bug raising in the middle of training (here a user's hook) ends the run with its
    traceback and exit 1. The loader's workers ignore the rank's stop signals, so
    multiprocessing's exit handler (SIGTERM, then wait) used to wait for them forever."""
    (tmp_path / "raising_hook_ext.py").write_text(RAISING_HOOK)
    cfg = tmp_path / "cfg.py"
    cfg.write_text(f"_base_ = [{helpers.TOY!r}]\ncustom_imports = dict(imports=['raising_hook_ext'])"
                   f"\ncustom_hooks = [dict(type='RaiseAt', at=3)]\n")
    env = dict(helpers.env(), PYTHONPATH=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    args = ["--work-dir", str(tmp_path / "wd"), "--cfg-options", "data.workers_per_gpu=1",
            "data.persistent_workers=True", f"mp_start_method={start}"]
    try:
        proc = subprocess.run(helpers.command(args, config=str(cfg)), cwd=helpers.ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the run hung after the exception:\n{(exc.stderr or b'')[-2000:]!r}")
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "RuntimeError: user hook bug at iteration 3" in proc.stderr
    assert "is killed by signal" not in proc.stderr

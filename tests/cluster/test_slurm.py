"""A one-node SLURM (slurmctld + slurmd + munge, started by the fixture): launch/slurm.sh and
sbatch train the toy config as 2 tasks; failures, a taken port and a killed task end the job
with a non-zero exit."""
from __future__ import annotations

import glob
import os
import re
import signal
import socket
import subprocess
import time
import uuid

import pytest

import cluster_util as cu

pytestmark = pytest.mark.cluster
SLURM_SH = os.path.join(cu.LAUNCH, "slurm.sh")
TWO_TASKS = dict(GPUS="2", GPUS_PER_NODE="2", CPUS_PER_TASK="1", GPU_GRES="0")


def slurm_sh(slurm1, tmp_path, config, *py_args, **extra):
    e = cu.env(**{**slurm1, **TWO_TASKS, **extra})
    return cu.run([SLURM_SH, "debug", "ocr_ds-test", config, str(tmp_path / "wd"), *py_args],
                  str(tmp_path / "log"), env_=e)


@pytest.fixture
def bad_config(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text(f"_base_ = {cu.TOY!r}\nmodel = dict(type='NoSuchModel')\n")
    return str(path)


def test_slurm_sh_trains_two_tasks(slurm1, tmp_path):
    rc, out = slurm_sh(slurm1, tmp_path, cu.TOY, *cu.ONE_EPOCH)
    assert rc == 0, out[-6000:]
    assert "--ntasks=2 --ntasks-per-node=2 --cpus-per-task=1 --kill-on-bad-exit=1" in out
    assert "--gres" not in out and "--launcher slurm" in out
    cu.assert_trained(str(tmp_path / "wd"))


def test_slurm_sh_stop_signal_requeue_and_sigterm_to_the_script(slurm1, tmp_path):
    """STOP_SIGNAL=USR1 REQUEUE=1: SIGUSR1 to one task -> every rank saves and exits 75 ->
    slurm.sh starts the job again with --auto-resume; then SIGTERM to slurm.sh alone (what
    `timeout` or a supervisor sends) -> it sends SIGUSR1 through srun to every task, the ranks
    save and exit 75, and the script ends for good with 75, leaving no rank behind and `latest`
    on a complete checkpoint."""
    tag, wd, log = uuid.uuid4().hex, str(tmp_path / "wd"), str(tmp_path / "log")
    e = cu.env(**slurm1, **TWO_TASKS, STOP_SIGNAL="USR1", REQUEUE="1", OCR_DS_TEST_JOB=tag)
    job = cu.start([SLURM_SH, "debug", "ocr_ds-requeue", cu.TOY, wd, "--no-validate",
                    "--cfg-options", "total_epochs=100000", "data.train.num_samples=960",
                    "log_config.interval=5", "checkpoint_config.interval=100000"], log, e)
    try:
        cu.wait_until(lambda: "Epoch [1][10/120]" in _logs(wd) or job.poll() is not None, 180,
                      "the job to train")
        ranks = cu.job_ranks(tag)
        assert job.poll() is None and sorted(ranks) == [0, 1], (ranks, cu.tail(log))
        os.kill(ranks[1], signal.SIGUSR1)
        # (until its training loop runs, a stop signal ends a rank at once: nothing to save)
        cu.wait_until(lambda: "Epoch [" in _logs(wd).partition("resumed from")[2]
                      or job.poll() is not None, 180, "the job to start again and train")
        assert job.poll() is None, cu.tail(log)
        os.kill(job.pid, signal.SIGTERM)  # slurm.sh alone
        rc, out, _ = cu.finish(job, log, 60)
        cu.wait_until(lambda: not cu.job_ranks(tag), 15, "every rank to exit")
    finally:
        if job.poll() is None:
            cu._kill_group(job)
        cu.kill_pids(list(cu.job_ranks(tag).values()))
    assert rc == 75, out[-6000:]
    assert "--signal" not in out and "--stop-signal SIGUSR1" in out  # a bare name: no srun --signal
    assert out.count("starting it again (REQUEUE=1)") == 1 and "--auto-resume" in out, out[-6000:]
    logs = _logs(wd)
    # the second stop: SIGTERM to slurm.sh -> its stop signal through srun to every task
    assert "received SIGUSR1 (rank 1)" in logs and "received SIGUSR1 (every rank)" in logs, logs[-6000:]
    assert logs.count("Training stopped at epoch") == 2, logs[-6000:]
    with open(os.path.join(wd, "latest")) as f:
        assert os.path.isfile(os.path.join(wd, f.read(), "ocr_ds_meta.json"))


def test_sbatch_wait_trains_two_tasks(slurm1, tmp_path):
    wd = str(tmp_path / "wd")
    rc, out = cu.run(["sbatch", "--wait", "-p", "debug", "--ntasks=2", "--ntasks-per-node=2",
                      "--cpus-per-task=1", f"--output={tmp_path}/slurm-%j.out",
                      os.path.join(cu.LAUNCH, "sbatch_train.sh"), cu.TOY, wd, *cu.ONE_EPOCH],
                     str(tmp_path / "log"), env_=cu.env(**slurm1))
    (job_out,) = [p for p in os.listdir(tmp_path) if p.startswith("slurm-")]
    assert rc == 0, out + cu.tail(str(tmp_path / job_out))
    cu.assert_trained(wd)


@pytest.mark.parametrize("how", ["slurm.sh", "sbatch"])
def test_failing_job_returns_non_zero(slurm1, tmp_path, bad_config, how):
    if how == "slurm.sh":
        rc, out = slurm_sh(slurm1, tmp_path, bad_config)
    else:
        rc, out = cu.run(["sbatch", "--wait", "-p", "debug", "--ntasks=2", "--ntasks-per-node=2",
                          "--cpus-per-task=1",
                          f"--output={tmp_path}/slurm-%j.out",
                          os.path.join(cu.LAUNCH, "sbatch_train.sh"), bad_config,
                          str(tmp_path / "wd")], str(tmp_path / "log"), env_=cu.env(**slurm1))
        out += "".join(cu.tail(str(tmp_path / p)) for p in os.listdir(tmp_path)
                       if p.startswith("slurm-"))
    assert rc != 0, out[-4000:]
    assert "NoSuchModel" in out, out[-4000:]


def test_gres_request_fails_fast_on_a_cluster_without_gpus(slurm1, tmp_path):
    """Why GPU_GRES=0 exists: --gres=gpu:N on a GRES-less cluster is refused, not queued."""
    t0 = time.monotonic()
    rc, out = slurm_sh(slurm1, tmp_path, cu.TOY, GPU_GRES="1")
    assert rc != 0 and time.monotonic() - t0 < 30, out[-3000:]
    assert "--gres=gpu:2" in out


def test_taken_master_port_is_a_one_line_error(slurm1, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        rc, out = slurm_sh(slurm1, tmp_path, cu.TOY, MASTER_PORT=str(port))
    assert rc != 0, out[-3000:]
    assert f"error: master port {port} is already in use" in out, out[-3000:]
    assert "Traceback" not in out


def test_sigkill_of_one_task_ends_the_job(slurm1, tmp_path):
    tag = uuid.uuid4().hex
    wd = str(tmp_path / "wd")
    cmd = [SLURM_SH, "debug", "ocr_ds-kill", cu.TOY, wd, "--no-validate", "--cfg-options",
           "total_epochs=100000", "checkpoint_config.interval=100000"]
    rc, took = cu.kill_one_rank_and_wait(cmd, wd, str(tmp_path / "log"),
                                         cu.env(**slurm1, **TWO_TASKS, OCR_DS_TEST_JOB=tag), tag)
    assert rc != 0 and took < 60, (rc, took)


# 960 samples, 4 per task: 120 iterations per epoch on 2 tasks
PREEMPT_RUN = ["--seed", "0", "--deterministic", "--no-validate", "--cfg-options",
               "total_epochs=3", "data.train.num_samples=960", "log_config.interval=5"]


def _sbatch(slurm1, tmp_path, wd: str, name: str, *flags: str) -> str:
    rc, out = cu.run(["sbatch", "--parsable", "-p", "debug", "--ntasks=2", "--ntasks-per-node=2",
                      "--cpus-per-task=1", f"--job-name={name}", f"--output={tmp_path}/{name}.out",
                      *flags, os.path.join(cu.LAUNCH, "sbatch_train.sh"), cu.TOY, wd,
                      *PREEMPT_RUN], str(tmp_path / f"{name}.submit"), env_=cu.env(**slurm1))
    assert rc == 0, out
    return out.strip().split(";")[0]


def _job(slurm1, job_id: str) -> dict[str, str]:
    """`scontrol show job` as a dict ({} once the job is gone)."""
    proc = subprocess.run(["scontrol", "show", "job", "-o", job_id], env=cu.env(**slurm1),
                          capture_output=True, text=True)
    return dict(f.split("=", 1) for f in proc.stdout.split() if "=" in f) if proc.returncode == 0 else {}


def _logs(wd: str) -> str:
    text = ""
    for path in sorted(glob.glob(os.path.join(wd, "*.log"))):
        with open(path, errors="replace") as f:
            text += f.read()
    return text


def _trained_after_resume(wd: str) -> bool:
    """The newest run's log (one ``<timestamp>.log`` per run) resumed and logged training."""
    paths = sorted(glob.glob(os.path.join(wd, "*.log")))
    if len(paths) < 2:
        return False
    with open(paths[-1], errors="replace") as f:
        text = f.read()
    return "resumed from" in text and re.search(r"Epoch \[\d+\]\[\d+/120\]", text) is not None


def _finished(slurm1, job_id: str) -> bool:
    state = _job(slurm1, job_id).get("JobState", "GONE")
    return state not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED",
                         "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SUSPENDED")


def test_preempted_and_requeued_job_resumes_to_the_uninterrupted_weights(slurm1, tmp_path):
    """One job of launch/sbatch_train.sh is stopped twice and comes back by itself each time:
    first with SIGUSR1 to its batch shell (what --signal=B:USR1@120 sends before the time limit):
    the ranks save and exit 75 and the script requeues the job; then with `scontrol requeue`
    (SLURM's SIGTERM): the ranks save and SLURM requeues it. Its third run resumes from the
    newest checkpoint and ends with the weights of an uninterrupted job, bit for bit."""
    ref, wd = str(tmp_path / "ref"), str(tmp_path / "wd")
    ref_id = _sbatch(slurm1, tmp_path, ref, "ref")
    job_id = _sbatch(slurm1, tmp_path, wd, "preempted")
    try:
        cu.wait_until(lambda: "Epoch [1][10/120]" in _logs(wd) or _finished(slurm1, job_id), 180,
                      "the job to train")
        subprocess.run(["scancel", "--batch", "--signal=USR1", job_id], env=cu.env(**slurm1),
                       check=True)
        # the requeued run itself training (its own log: a toy run may have reached epoch 2
        # before the stop took effect), and the job running, so that `scontrol requeue` takes
        cu.wait_until(lambda: _job(slurm1, job_id).get("Restarts") == "1"
                      and _job(slurm1, job_id).get("JobState") == "RUNNING"
                      and _trained_after_resume(wd), 240, "the requeued run to train")
        subprocess.run(["scontrol", "requeue", job_id], env=cu.env(**slurm1), check=True)
        cu.wait_until(lambda: _job(slurm1, job_id).get("Restarts") == "2", 120, "the second requeue")
        cu.wait_until(lambda: _finished(slurm1, job_id) and _finished(slurm1, ref_id), 300,
                      "both jobs to finish")
    finally:
        subprocess.run(["scancel", job_id, ref_id], env=cu.env(**slurm1))
    out = cu.tail(str(tmp_path / "preempted.out"), 100000)
    logs = _logs(wd)
    assert "requeueing job" in out and out.count("continuing from the newest checkpoint") == 2, out[-6000:]
    stops = re.findall(r"Training stopped at epoch \d+, iter \d+ \((.*)\); checkpoint (\S+) is "
                       "complete", logs)
    resumed = re.findall(r"resumed from (\S+):", logs)
    assert len(stops) == 2 and resumed == [ckpt for _, ckpt in stops], logs[-6000:]
    # SLURM's SIGTERM reaches the tasks; the batch shell also passes it on as the stop signal
    assert stops[0][0] == "received SIGUSR1 (every rank)" and "received SIG" in stops[1][0], stops
    assert "Training finished: epoch 3" in logs
    import torch

    from ocr_ds.checkpoint_io import load_checkpoint_any

    a = load_checkpoint_any(os.path.join(ref, "epoch_3"))[0]
    b = load_checkpoint_any(os.path.join(wd, "epoch_3"))[0]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

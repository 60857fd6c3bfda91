"""A one-node SLURM (slurmctld + slurmd + munge, started by the fixture): launch/slurm.sh and
sbatch train the toy config as 2 tasks; failures, a taken port and a killed task end the job
with a non-zero exit."""
from __future__ import annotations

import os
import socket
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

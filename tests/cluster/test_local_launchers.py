"""One machine, several ranks, through every local launcher: torchrun (--launcher pytorch),
mpirun (--launcher mpi), train.py --gpus N (our own spawn), launch/dist_train.sh; two jobs side by
side; a taken port; a rank killed with SIGKILL. Each trains the toy config for one epoch."""
from __future__ import annotations

import os
import socket
import time
import uuid

import pytest

import cluster_util as cu
from cluster_util import need

pytestmark = pytest.mark.cluster
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "PATH",
          "-x", "OMP_NUM_THREADS", "-x", "PYTHONUNBUFFERED", "-x", "PYTHONFAULTHANDLER"]


def test_torchrun_launcher_pytorch(tmp_path):
    wd = str(tmp_path / "wd")
    rc, out = cu.run([cu.PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                      "--master_port", str(cu.free_port()), cu.TRAIN, cu.TOY, "--work-dir", wd,
                      "--launcher", "pytorch", *cu.ONE_EPOCH], str(tmp_path / "log"))
    assert rc == 0, out[-6000:]
    cu.assert_trained(wd)


def test_mpirun_launcher_mpi(tmp_path):
    need("mpirun")
    wd = str(tmp_path / "wd")
    # no MASTER_ADDR/MASTER_PORT: all ranks on one machine -> 127.0.0.1, port from the job id
    rc, out = cu.run([*MPIRUN, cu.PYTHON, cu.TRAIN, cu.TOY, "--work-dir", wd, "--launcher", "mpi",
                      *cu.ONE_EPOCH], str(tmp_path / "log"))
    assert rc == 0, out[-6000:]
    cu.assert_trained(wd)


def test_ds_train_sh_checks_the_hostfile_then_runs_deepspeed(tmp_path):
    """launch/ds_train.sh: a good hostfile passes the check and deepspeed --hostfile trains
    (--no_ssh: this machine is node 0 of a one-host file)."""
    hosts = tmp_path / "hosts"
    hosts.write_text("# one machine, two CPU ranks\nlocalhost slots=2\n")
    wd = str(tmp_path / "wd")
    ds_args = f"--no_ssh --node_rank 0 --master_addr 127.0.0.1 --master_port {cu.free_port()}"
    rc, out = cu.run([os.path.join(cu.ROOT, "launch", "ds_train.sh"), str(hosts), cu.TOY, wd,
                      *cu.ONE_EPOCH], str(tmp_path / "log"),
                     env_=cu.env(DS_ARGS=ds_args, PYTHON=cu.PYTHON))
    assert rc == 0, out[-6000:]
    assert "hostfile " + str(hosts) + ": 1 host(s), 2 slot(s)" in out
    cu.assert_trained(wd)


def test_gpus_2_and_dist_train_sh_side_by_side_on_their_own_ports(tmp_path):
    """`python ocr_ds/train.py cfg --gpus 2` (dist_params.port) and `launch/dist_train.sh cfg wd
    2` (PORT), both 2 ranks, at the same time on one machine: both finish."""
    p1, p2 = cu.free_port(), cu.free_port()
    while p2 == p1:
        p2 = cu.free_port()
    wd1, wd2 = str(tmp_path / "a"), str(tmp_path / "b")
    job1 = cu.start([cu.PYTHON, cu.TRAIN, cu.TOY, "--gpus", "2", "--work-dir", wd1,
                     "--cfg-options", "total_epochs=1", f"dist_params.port={p1}"],
                    str(tmp_path / "log1"))
    job2 = cu.start([os.path.join(cu.LAUNCH, "dist_train.sh"), cu.TOY, wd2, "2", *cu.ONE_EPOCH],
                    str(tmp_path / "log2"), cu.env(PORT=str(p2)))
    (rc1, out1, _), (rc2, out2, _) = cu.finish_all(
        [(job1, str(tmp_path / "log1")), (job2, str(tmp_path / "log2"))], 240)
    assert rc1 == 0, "train.py --gpus 2:\n" + out1[-6000:]
    assert rc2 == 0, "dist_train.sh:\n" + out2[-6000:]
    assert f"starting 2 local ranks (CPU) with master 127.0.0.1:{p1}" in out1
    assert "torch.distributed.run" in out2 and f"--master_port={p2}" in out2
    assert "--launcher pytorch" in out2
    cu.assert_trained(wd1)
    cu.assert_trained(wd2)


@pytest.fixture
def taken_port():
    """A port something else listens on (as another job's rendezvous store would)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _one_line_port_error(out: str, port: int) -> None:
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert errors and f"port {port} is already in use" in errors[0], out[-3000:]
    assert "Traceback" not in out, out[-3000:]


@pytest.mark.parametrize("how", ["gpus", "dist_train", "mpirun", "deepspeed"])
def test_port_clash_is_a_one_line_error(tmp_path, taken_port, how):
    wd, log = str(tmp_path / "wd"), str(tmp_path / "log")
    e = cu.env()
    if how == "gpus":
        cmd = [cu.PYTHON, cu.TRAIN, cu.TOY, "--gpus", "2", "--work-dir", wd,
               "--cfg-options", f"dist_params.port={taken_port}"]
    elif how == "dist_train":
        cmd, e = [os.path.join(cu.LAUNCH, "dist_train.sh"), cu.TOY, wd, "2"], cu.env(PORT=str(taken_port))
    elif how == "mpirun":
        need("mpirun")
        cmd = [*MPIRUN, "-x", "MASTER_PORT", cu.PYTHON, cu.TRAIN, cu.TOY, "--work-dir", wd,
               "--launcher", "mpi"]
        e = cu.env(MASTER_PORT=str(taken_port))
    else:  # rank 0 under the deepspeed launcher binds --master_port
        cmd = [os.path.join(cu.BIN, "deepspeed"), "--num_gpus", "2", "--master_port",
               str(taken_port), cu.TRAIN, "--config", cu.TOY, "--work-dir", wd]
    t0 = time.monotonic()
    rc, out = cu.run(cmd, log, timeout=120, env_=e)
    assert rc != 0 and time.monotonic() - t0 < 60, out[-3000:]
    if how in ("gpus", "dist_train"):
        assert rc == 2
    _one_line_port_error(out, taken_port)
    assert not os.path.exists(os.path.join(wd, "latest"))


def test_unset_port_on_dist_train_moves_off_a_taken_29500(tmp_path):
    """PORT unset and 29500 taken: dist_train.sh picks a free port instead of failing."""
    try:
        s = socket.socket()
        s.bind(("127.0.0.1", 29500))
        s.listen()
    except OSError:
        pytest.skip("29500 is busy with something else here")
    try:
        rc, out = cu.run([os.path.join(cu.LAUNCH, "dist_train.sh"), cu.TOY, str(tmp_path / "wd"),
                          "2", *cu.ONE_EPOCH], str(tmp_path / "log"))
    finally:
        s.close()
    assert rc == 0, out[-4000:]
    assert "port 29500 is in use, using free port" in out
    cu.assert_trained(str(tmp_path / "wd"))


def _kill_cmd(how: str, wd: str) -> list[str]:
    long_run = ["--no-validate", "--cfg-options", "total_epochs=100000",
                "checkpoint_config.interval=100000"]
    if how == "gpu-ids":  # the other form of our own spawn (--gpus 2 runs side by side above)
        return [cu.PYTHON, cu.TRAIN, cu.TOY, "--gpu-ids", "0", "1", "--work-dir", wd, *long_run]
    if how == "torchrun":
        return [cu.PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                str(cu.free_port()), cu.TRAIN, cu.TOY, "--work-dir", wd, "--launcher", "pytorch",
                *long_run]
    if how == "mpirun":
        need("mpirun")
        return [*MPIRUN, "-x", "OCR_DS_TEST_JOB", cu.PYTHON, cu.TRAIN, cu.TOY, "--work-dir", wd,
                "--launcher", "mpi", *long_run]
    return [os.path.join(cu.BIN, "deepspeed"), "--num_gpus", "2", "--master_port",
            str(cu.free_port()), cu.TRAIN, "--config", cu.TOY, "--work-dir", wd, *long_run]


@pytest.mark.parametrize("how", ["gpu-ids", "torchrun", "mpirun", "deepspeed"])
def test_sigkill_of_one_rank_ends_the_job(tmp_path, how):
    tag = uuid.uuid4().hex
    wd = str(tmp_path / "wd")
    rc, took = cu.kill_one_rank_and_wait(_kill_cmd(how, wd), wd, str(tmp_path / "log"),
                                      cu.env(OCR_DS_TEST_JOB=tag), tag)
    assert rc != 0 and took < 60, (rc, took)

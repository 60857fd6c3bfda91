"""Unit tests (no daemons, no ranks, not marked `cluster`): how ocr_ds.engine.launch maps each
launcher's variables, picks and checks the master port; how spawn supervises its ranks."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from ocr_ds.engine import launch, spawn
from ocr_ds.errors import UserError

VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "LOCAL_WORLD_SIZE")


@pytest.fixture
def environ():
    """os.environ without any launcher's variables; restored afterwards."""
    saved = dict(os.environ)
    for k in list(os.environ):
        if k in VARS or k.startswith(("SLURM_", "OMPI_", "TORCHELASTIC_")):
            del os.environ[k]
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def taken_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def _slurm(environ, **extra):
    environ.update(SLURM_PROCID="1", SLURM_NTASKS="4", SLURM_LOCALID="1", SLURM_NODELIST="x[1-2]",
                   SLURM_JOB_ID="4242", SLURM_STEP_ID="0", MASTER_ADDR="10.1.1.1", **extra)


def test_slurm_variables_map_to_ranks(environ):
    _slurm(environ)
    launch.setup_env("slurm", {"backend": "nccl"})
    assert [environ[k] for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")] == \
        ["1", "4", "1", "10.1.1.1"]
    # no port anywhere: every task derives the same one from the job id, in MMOCR's range
    assert environ["MASTER_PORT"] == str(launch.job_port("4242.0"))
    assert 12000 <= int(environ["MASTER_PORT"]) < 32000
    assert launch.job_port("4242.0") != launch.job_port("4243.0")


def test_slurm_port_precedence_config_then_env(environ):
    _slurm(environ, MASTER_PORT="23456")
    launch.setup_env("slurm", {"port": 29999})
    assert environ["MASTER_PORT"] == "29999"
    environ["MASTER_PORT"] = "23456"
    launch.setup_env("slurm", {})
    assert environ["MASTER_PORT"] == "23456"


def test_slurm_master_is_first_host_or_its_node_addr(environ, tmp_path):
    """scontrol gives names; a name that does not resolve falls back to the node's NodeAddr."""
    fake = tmp_path / "scontrol"
    fake.write_text("#!/bin/sh\n"
                    "case \"$1 $2\" in\n"
                    "  'show hostnames') echo \"$FIRST\"; echo other ;;\n"
                    "  'show node') echo \"NodeName=$3 Arch=x86_64 NodeAddr=10.7.7.7 Port=0\" ;;\n"
                    "esac\n")
    fake.chmod(0o755)
    environ["PATH"] = f"{tmp_path}{os.pathsep}{environ['PATH']}"
    for first, expect in (("localhost", "localhost"), ("no-such-host.invalid", "10.7.7.7")):
        _slurm(environ, FIRST=first)
        del environ["MASTER_ADDR"]
        launch.setup_env("slurm", {})
        assert environ["MASTER_ADDR"] == expect


def test_slurm_outside_a_job_is_a_user_error(environ):
    with pytest.raises(UserError, match="SLURM_PROCID.*srun"):
        launch.setup_env("slurm", {})


def test_mpi_on_one_machine_needs_no_master_addr(environ):
    environ.update(OMPI_COMM_WORLD_RANK="1", OMPI_COMM_WORLD_SIZE="2",
                   OMPI_COMM_WORLD_LOCAL_RANK="1", OMPI_COMM_WORLD_LOCAL_SIZE="2",
                   OMPI_MCA_ess_base_jobid="700514305")
    launch.setup_env("mpi", None)
    assert (environ["RANK"], environ["WORLD_SIZE"], environ["LOCAL_RANK"]) == ("1", "2", "1")
    assert environ["MASTER_ADDR"] == "127.0.0.1"
    assert environ["MASTER_PORT"] == str(launch.job_port("700514305"))


def test_mpi_across_machines_needs_master_addr(environ):
    environ.update(OMPI_COMM_WORLD_RANK="0", OMPI_COMM_WORLD_SIZE="4",
                   OMPI_COMM_WORLD_LOCAL_SIZE="2")
    with pytest.raises(UserError, match="MASTER_ADDR must be set"):
        launch.setup_env("mpi", None)


def test_pytorch_without_torchrun_is_a_user_error(environ):
    with pytest.raises(UserError, match="torchrun"):
        launch.setup_env("pytorch", None)


def test_world_of_one_takes_a_free_port_even_with_a_configured_one(environ, taken_port):
    launch.setup_env("none", {"port": taken_port})
    assert environ["WORLD_SIZE"] == "1" and environ["MASTER_PORT"] != str(taken_port)


def test_taken_port_is_an_error_on_rank_0_only(environ, taken_port):
    environ.update(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=str(taken_port))
    with pytest.raises(UserError, match=f"master port {taken_port} is already in use"):
        launch.setup_env("none", None)
    environ["RANK"] = "1"  # connects to the store, does not bind it
    launch.setup_env("none", None)
    environ.update(RANK="0", TORCHELASTIC_USE_AGENT_STORE="True")  # torchrun's agent binds it
    launch.setup_env("pytorch", None)


def test_bad_ports_are_user_errors(environ):
    with pytest.raises(UserError, match="dist_params.port"):
        launch.setup_env("none", {"port": "29500"})
    environ.update(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="h", MASTER_PORT="x")
    with pytest.raises(UserError, match="MASTER_PORT: expected a TCP port"):
        launch.setup_env("none", None)


def test_venv_bin_goes_first_on_path(environ):
    environ["PATH"] = "/usr/bin:/bin"
    launch.setup_env("none", None)
    bindir = os.path.dirname(sys.executable)
    if os.access(os.path.join(bindir, "ninja"), os.X_OK):
        assert environ["PATH"] == f"{bindir}:/usr/bin:/bin"
    else:
        assert environ["PATH"] == "/usr/bin:/bin"


def test_spawn_single_rank_runs_in_process(environ):
    assert spawn.spawn_local_ranks([], 1, None, None) is None
    if not spawn._cuda_count():
        assert spawn.spawn_local_ranks([], None, [3], None) is None


def test_spawn_rejects_repeated_ids_and_a_taken_port(environ, taken_port):
    with pytest.raises(UserError, match="each device once"):
        spawn.spawn_local_ranks([], None, [0, 0], None)
    with pytest.raises(UserError, match=f"port {taken_port} is already in use"):
        spawn.spawn_local_ranks([], 2, None, {"port": taken_port})


def test_supervise_stops_the_others_when_one_rank_fails():
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    failer = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    t0 = time.monotonic()
    assert spawn._supervise([sleeper, failer]) == 3
    assert sleeper.poll() is not None and time.monotonic() - t0 < 15


def test_supervise_reports_a_signal_as_128_plus_n():
    killed = subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    assert spawn._supervise([killed]) == 137
    ok = [subprocess.Popen([sys.executable, "-c", "pass"]) for _ in range(2)]
    assert spawn._supervise(ok) == 0

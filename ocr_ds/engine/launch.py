"""Turn what a launcher left in the environment into the variables DeepSpeed reads.

DeepSpeed's ``init_distributed`` wants ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``; without them it tries MPI discovery (and fails without mpi4py). The
``deepspeed`` and ``torchrun`` launchers set them; for SLURM and OpenMPI we map their variables
as mmcv does (REFERENCE §1); a plain ``python ocr_ds/train.py`` becomes a world of one (and
``--gpus N`` starts N local ranks: :mod:`ocr_ds.engine.spawn`).

The master port, where mmcv falls back to a fixed 29500, is chosen so that two jobs on one
machine stay apart without anyone picking ports:

- ``dist_params.port`` in the config wins (as in mmcv), then ``MASTER_PORT`` from the
  environment (``launch/slurm.sh`` exports a free one);
- else SLURM and OpenMPI ranks derive the same port from their job's id (every rank computes it
  alone, no communication needed); a world of one takes any free port.

Whichever it is, the rank that will bind it (rank 0, which hosts the rendezvous store — unless
torchrun's agent hosts it) checks first that it is free, so a clash is one line and exit 2
instead of ranks joining another job's rendezvous or waiting for the timeout.

Two process-level chores ride along, since every launch path passes here before DeepSpeed
starts: DeepSpeed's JIT-built ops come from this venv's directory, built with the interpreter's
own ``ninja`` (:mod:`ocr_ds.engine.ops`), and at exit the process group is closed and its
threads are let go idle before the interpreter finalizes (else a finished rank can die with
SIGABRT).
"""
from __future__ import annotations

import atexit
import os
import socket
import subprocess
import threading
import time
import zlib
from typing import Mapping

from ocr_ds.engine import ops
from ocr_ds.engine.dist import free_port, port_in_use
from ocr_ds.errors import UserError

LAUNCHERS = ("none", "pytorch", "slurm", "mpi")
_REQUIRED = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
# ports derived from a job id fall in the range launch/slurm.sh draws from (MMOCR's 12000-31999)
JOB_PORT_BASE, JOB_PORT_SPAN = 12000, 20000
_AT_EXIT: list = []  # the exit handler, once registered


def config_port(dist_params: Mapping | None) -> int | None:
    port = (dist_params or {}).get("port")
    if port is None:
        return None
    if not isinstance(port, int) or not 0 < port < 65536:
        raise UserError(f"dist_params.port: expected a TCP port 1-65535 (got {port!r})")
    return port


def env_port() -> int | None:
    value = os.environ.get("MASTER_PORT")
    if value is None or value == "":
        return None
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise UserError(f"MASTER_PORT: expected a TCP port 1-65535 (got {value!r})")
    return int(value)


def job_port(job_id: str) -> int:
    """A port in 12000-31999 that every rank of one job derives alike from the job's id."""
    return JOB_PORT_BASE + zlib.crc32(job_id.encode()) % JOB_PORT_SPAN


def _scontrol(*args: str) -> str:
    try:
        return subprocess.run(["scontrol", *args], check=True, capture_output=True,
                              text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UserError(f"--launcher slurm: `scontrol {' '.join(args)}` failed ({exc})") from None


def _slurm_master_addr(nodelist: str) -> str:
    """mmcv's first host of the node list; its NodeAddr where the name does not resolve."""
    host = _scontrol("show", "hostnames", nodelist).split()[0]
    try:
        socket.getaddrinfo(host, None)
        return host
    except OSError:  # node names are not always DNS names (NodeName=n1 NodeAddr=10.0.0.1)
        fields = dict(f.split("=", 1) for f in _scontrol("show", "node", host, "-o").split()
                      if "=" in f)
        addr = fields.get("NodeAddr")
        if not addr or addr == host:
            raise UserError(f"--launcher slurm: node {host!r} does not resolve and has no "
                            "NodeAddr; set MASTER_ADDR") from None
        return addr


def _require(launcher: str, names: tuple[str, ...], hint: str) -> None:
    missing = [v for v in names if v not in os.environ]
    if missing:
        raise UserError(f"--launcher {launcher}: {', '.join(missing)} not set; {hint}")


def setup_env(launcher: str, dist_params: Mapping | None, local_rank: int | None = None) -> None:
    """Export RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT for ``launcher``, then make sure
    the master port is free where this process is the one that binds it."""
    env = os.environ
    ops.use_venv_dir()
    ops.prefer_interpreter_tools()
    port = config_port(dist_params)
    if launcher == "slurm":
        _require("slurm", ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"),
                 "run under srun/sbatch (launch/slurm.sh)")
        env["RANK"] = env["SLURM_PROCID"]
        env["WORLD_SIZE"] = env["SLURM_NTASKS"]
        env["LOCAL_RANK"] = env.get("SLURM_LOCALID", "0")
        if "MASTER_ADDR" not in env:
            env["MASTER_ADDR"] = _slurm_master_addr(env["SLURM_NODELIST"])
        job = f"{env.get('SLURM_JOB_ID', '')}.{env.get('SLURM_STEP_ID', '')}"
        env["MASTER_PORT"] = str(port or env_port() or job_port(job))
    elif launcher == "mpi":
        _require("mpi", ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"), "run under mpirun")
        env["RANK"] = env["OMPI_COMM_WORLD_RANK"]
        env["WORLD_SIZE"] = env["OMPI_COMM_WORLD_SIZE"]
        env["LOCAL_RANK"] = env.get("OMPI_COMM_WORLD_LOCAL_RANK", "0")
        if "MASTER_ADDR" not in env:
            if env.get("OMPI_COMM_WORLD_LOCAL_SIZE") != env["WORLD_SIZE"]:
                raise UserError("--launcher mpi: MASTER_ADDR must be set to the address of rank 0 "
                                "(mpirun -x MASTER_ADDR=<host of rank 0>)")
            env["MASTER_ADDR"] = "127.0.0.1"  # every rank on this machine
        job = env.get("OMPI_MCA_ess_base_jobid")
        env["MASTER_PORT"] = str(port or env_port() or (job_port(job) if job else 29500))
    elif launcher == "pytorch":
        _require("pytorch", _REQUIRED, "start with torchrun or python -m torch.distributed.run "
                 "(launch/dist_train.sh)")
    else:  # none: started by the deepspeed launcher or spawn.py (env set), or one plain process
        if not all(v in env for v in ("RANK", "WORLD_SIZE")):
            env["RANK"], env["WORLD_SIZE"] = "0", "1"
            env["LOCAL_RANK"] = str(local_rank or 0)
            env.setdefault("MASTER_ADDR", "127.0.0.1")
            # nobody else joins a world of one: a fixed port could only clash; and a port free
            # a moment ago may be taken now by a job that chose it the same way: choose again
            for _ in range(20):
                env["MASTER_PORT"] = str(free_port())
                if not port_in_use(int(env["MASTER_PORT"]), "0.0.0.0"):
                    break
    if local_rank is not None and "LOCAL_RANK" not in env:
        env["LOCAL_RANK"] = str(local_rank)
    check_master_port()
    if not _AT_EXIT:
        _AT_EXIT.append(atexit.register(_destroy_process_group))


def _destroy_process_group() -> None:
    """At exit: close the process group and let its threads go idle before the interpreter
    finalizes.

    A gloo worker thread frees each finished collective right after signalling its completion;
    that frees tensors owned by Python objects, so it takes the GIL. A rank that exits at once
    after its last collective (any rank but the logging rank 0) can reach interpreter
    finalization before that thread ran; the thread is then killed while taking the GIL, inside
    a destructor: "terminate called without an active exception", SIGABRT, and a finished job
    fails (seen here in about one 2-rank run in 15, under every launcher; core dump: main thread
    in Py_FinalizeEx, worker in ProcessGroupGloo::AsyncWork::~AsyncWork -> gil_scoped_acquire).
    Local, not a collective: safe after an error too."""
    try:
        import torch.distributed as tdist

        if not (tdist.is_available() and tdist.is_initialized()):
            return
        tdist.destroy_process_group()
    except Exception:  # noqa: BLE001 - exiting anyway; never mask the real exit status
        return
    _let_threads_settle()


def _let_threads_settle(timeout: float = 2.0) -> None:
    """Release the GIL until no other thread of this process is runnable (Linux; bounded)."""
    tasks = "/proc/self/task"
    if not os.path.isdir(tasks):
        time.sleep(0.05)
        return
    me = str(threading.get_native_id())
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # a thread waiting for the GIL gets it now
        running = False
        for tid in os.listdir(tasks):
            if tid == me:
                continue
            try:
                with open(f"{tasks}/{tid}/stat") as f:
                    running |= f.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:
                continue
        quiet = 0 if running else quiet + 1


def binds_master_port() -> bool:
    """Whether this process will host the rendezvous store on MASTER_PORT (rank 0, except under
    torchrun, whose agent hosts it and hands it to the workers)."""
    return (os.environ.get("RANK") == "0"
            and os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() != "true")


def check_master_port() -> None:
    """Rank 0: a clear error now if MASTER_PORT is taken, not a hang or a stray rendezvous later."""
    if not binds_master_port() or "MASTER_PORT" not in os.environ:
        return
    port = env_port()
    # the store listens on every address, so any listener on that port is a clash
    if port is not None and port_in_use(port, "0.0.0.0"):
        raise UserError(
            f"master port {port} is already in use on {socket.gethostname()} (another job?): "
            "pick another with dist_params.port / MASTER_PORT / PORT, or leave it unset to get "
            "a free one")

"""Start real launchers on the toy config and read what they left; find and stop their ranks."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Callable, Sequence

import pytest

from ocr_ds.engine.dist import free_port  # noqa: F401 - cu.free_port in the launcher tests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(ROOT, "ocr_ds", "train.py")
TOY = os.path.join(ROOT, "tests", "fixtures", "engine", "toy.py")
LAUNCH = os.path.join(ROOT, "launch")
CLUSTER_SH = os.path.join(ROOT, "tests", "cluster", "cluster.sh")
BIN = os.path.dirname(sys.executable)
PYTHON = sys.executable
CLUSTER_DIR = os.environ.get("CLUSTER_DIR", "/tmp/ocr_ds-cluster")
NS = ("ocrds_a", "ocrds_b")
IPS = ("10.200.0.1", "10.200.0.2")
ONE_EPOCH = ["--cfg-options", "total_epochs=1"]
# what a launcher or an outer job may have left in our own environment and must not leak in
_LAUNCHER_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                  "MASTER_PORT", "PORT", "NNODES", "NODE_RANK", "GPUS", "GPUS_PER_NODE",
                  "CPUS_PER_TASK", "SRUN_ARGS", "CUDA_VISIBLE_DEVICES")
_LAUNCHER_PREFIXES = ("SLURM_", "OMPI_", "PMIX_", "TORCHELASTIC_", "GLOO_", "DS_ENV_FILE",
                      "PDSH_")


def need(*tools: str, root: bool = False) -> None:
    """Skip the calling test/fixture unless the tools (and root, if asked) are there."""
    if root and os.geteuid() != 0:
        pytest.skip("needs root (daemons, network namespaces)")
    missing = [t for t in tools if not (shutil.which(t) or os.access(f"/usr/sbin/{t}", os.X_OK))]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run tests/cluster/install.sh")


def env(**extra: str) -> dict[str, str]:
    """A clean environment: the venv first on PATH (DeepSpeed JIT-builds a comm op with the first
    ninja it finds; another ninja version rebuilds it, ~60 s), one thread per rank, no launcher
    variables inherited from an outer job, no malloc settings (train.py makes its own)."""
    e = {k: v for k, v in os.environ.items()
         if k not in _LAUNCHER_VARS and not k.startswith(_LAUNCHER_PREFIXES)
         and not k.startswith("MALLOC_") and k != "OCR_DS_CPU_MALLOC"}  # nothing exported
    # PYTHONFAULTHANDLER: a rank that aborts (SIGABRT/SIGSEGV) prints where its threads were
    e.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")
    e["PATH"] = BIN + os.pathsep + e.get("PATH", "")
    e.update(extra)
    return e


def in_ns(i: int) -> list[str]:
    """Command prefix that runs in "host" i (its own network namespace, same filesystem)."""
    return ["nsenter", f"--net=/run/netns/{NS[i]}"]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def start(cmd: Sequence[str], log: str, env_: dict[str, str] | None = None,
          cwd: str = ROOT) -> subprocess.Popen:
    """Start ``cmd`` in its own session (so it and everything it starts can be stopped at once)."""
    out = open(log, "w")
    # SIGINT at its default action, as a terminal gives it: a test run started in the background
    # of a shell (CI scripts, `cmd &`) inherits SIGINT ignored, and so would the launcher
    return subprocess.Popen(list(cmd), cwd=cwd, env=env_ or env(), stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def finish(proc: subprocess.Popen, log: str, timeout: float) -> tuple[int, str, float]:
    """Wait for a started command; on timeout stop its whole session and fail with its log."""
    t0 = time.monotonic()
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise AssertionError(f"{proc.args} did not finish in {timeout:.0f} s\n{tail(log)}")
    with open(log) as f:
        return rc, f.read(), time.monotonic() - t0


def finish_all(jobs: Sequence[tuple[subprocess.Popen, str]],
               timeout: float) -> list[tuple[int, str, float]]:
    """``finish`` for jobs running side by side; none is left running if one fails."""
    try:
        return [finish(job, log, timeout) for job, log in jobs]
    finally:
        for job, _ in jobs:
            if job.poll() is None:
                _kill_group(job)


def run(cmd: Sequence[str], log: str, timeout: float = 180, env_: dict[str, str] | None = None,
        cwd: str = ROOT) -> tuple[int, str]:
    rc, out, _ = finish(start(cmd, log, env_, cwd), log, timeout)
    return rc, out


def tail(path: str, n: int = 6000) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return f"({path} missing)"


def assert_trained(work_dir: str, world_size: int = 2, epochs: int = 1) -> None:
    """The work dir a 1-epoch run leaves: config dump, text + json logs, epoch checkpoint."""
    names = set(os.listdir(work_dir))
    assert "toy.py" in names, names
    assert f"epoch_{epochs}" in names, names
    with open(os.path.join(work_dir, "latest")) as f:
        assert f.read() == f"epoch_{epochs}"
    (log,) = glob.glob(os.path.join(work_dir, "*.log"))
    (_,) = glob.glob(os.path.join(work_dir, "*.log.json"))
    with open(log) as f:
        text = f.read()
    assert f"world_size: {world_size}" in text, text[:2000]
    # every launcher gets CPU ranks that keep freed memory, with nothing exported (issue 17)
    assert "CPU malloc: keep" in text, text[:2000]
    assert f"Training finished: epoch {epochs}" in text, text[-2000:]


def wait_until(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def training_started(work_dir: str) -> bool:
    for path in glob.glob(os.path.join(work_dir, "*.log")):
        with open(path, errors="replace") as f:
            if "Epoch [1][" in f.read():
                return True
    return False


def _environ(pid: int) -> dict[str, str]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            raw = f.read()
    except OSError:
        return {}
    return dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def job_ranks(tag: str) -> dict[int, int]:
    """{rank: pid} of the live train.py processes started with OCR_DS_TEST_JOB=tag (the rank as
    its launcher gave it: RANK, SLURM_PROCID or OMPI_COMM_WORLD_RANK)."""
    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        e = _environ(pid)
        if e.get("OCR_DS_TEST_JOB") != tag or not _alive(pid):
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        if not any(arg.endswith(b"train.py") for arg in cmdline) or cmdline[0].endswith(b"bash"):
            continue
        rank = e.get("RANK") or e.get("SLURM_PROCID") or e.get("OMPI_COMM_WORLD_RANK")
        if rank is not None and rank.isdigit():
            ranks[int(rank)] = pid
    return ranks


def job_processes(tag: str) -> list[int]:
    """Every live process started with OCR_DS_TEST_JOB=tag (launchers, ranks, loader workers)."""
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) != os.getpid()
            and _environ(int(e)).get("OCR_DS_TEST_JOB") == tag and _alive(int(e))]


def kill_pids(pids: Sequence[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_one_rank_and_wait(cmd: list[str], wd: str, log: str, env_: dict[str, str],
                           tag: str) -> tuple[int, float]:
    """Start a long job, SIGKILL rank 1 once it trains; the job must end non-zero within 60 s
    and leave no rank behind."""
    job = start(cmd, log, env_)
    try:
        wait_until(lambda: training_started(wd) or job.poll() is not None, 120,
                   "training to start")
        assert job.poll() is None, tail(log)
        ranks = job_ranks(tag)
        assert sorted(ranks) == [0, 1], (ranks, tail(log))
        os.kill(ranks[1], signal.SIGKILL)
        t0 = time.monotonic()
        rc, out, _ = finish(job, log, 60)
        took = time.monotonic() - t0
        wait_until(lambda: not job_ranks(tag), 15, "the other rank to exit")
        return rc, took
    finally:
        if job.poll() is None:
            _kill_group(job)
        kill_pids(list(job_ranks(tag).values()))

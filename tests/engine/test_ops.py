"""DeepSpeed's JIT-built comm op (ocr_ds/engine/ops.py): built into each virtualenv, never rebuilt
when two checkouts alternate, and a build lock left by a killed build is cleared (or reported)
in one line instead of a silent wait forever. Each case runs `python -m ocr_ds.engine.ops build`
(what `make setup` runs and what every rank does first) with a timeout."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time

import pytest

import helpers

pytestmark = pytest.mark.slow
OP = "deepspeed_shm_comm"


def _ops_build(python: str, env: dict[str, str], timeout: float = 120) -> subprocess.Popen:
    return subprocess.Popen([python, "-m", "ocr_ds.engine.ops", "build"], cwd=helpers.ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _env(**extra: str) -> dict[str, str]:
    e = {k: v for k, v in helpers.env().items() if k != "TORCH_EXTENSIONS_DIR"}
    e["PYTHONPATH"] = helpers.ROOT
    e.update(extra)
    return e


@pytest.fixture(scope="module")
def built_op() -> str:
    """This venv's build of the op (made by `make setup`; built here if it is missing)."""
    proc = _ops_build(sys.executable, _env())
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    path = os.path.join(sys.prefix, "torch_extensions", OP)
    assert os.path.isfile(os.path.join(path, f"{OP}.so")), out
    return path


def _copy_build(built: str, ext_dir: str) -> str:
    """A copy of a build (timestamps kept, so ninja finds it up to date)."""
    dst = os.path.join(ext_dir, OP)
    shutil.copytree(built, dst, symlinks=True, copy_function=shutil.copy2)
    return dst


def _stamp(build: str) -> tuple[float, str]:
    with open(os.path.join(build, ".ninja_log")) as f:
        return os.stat(os.path.join(build, f"{OP}.so")).st_mtime, f.read()


def test_a_live_builder_is_announced_and_its_death_clears_its_lock(built_op, tmp_path):
    build = _copy_build(built_op, str(tmp_path))
    lock = os.path.join(build, "lock")
    # a "builder" holding the lock open, as torch's FileBaton does while it builds
    holder = subprocess.Popen([sys.executable, "-c", "import os, sys, time; "
                               f"fd = os.open({lock!r}, os.O_CREAT | os.O_EXCL); "
                               "print('held', flush=True); time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = _ops_build(sys.executable, _env(TORCH_EXTENSIONS_DIR=str(tmp_path)))
        lines = []
        deadline = time.time() + 120
        while time.time() < deadline:
            lines.append(proc.stdout.readline())
            if "waiting for process" in lines[-1]:
                break
        assert f"waiting for process {holder.pid}, which is building a DeepSpeed op in {build}" \
            in lines[-1], lines
        holder.send_signal(signal.SIGKILL)  # the builder dies without releasing its lock
        holder.wait()
        out, _ = proc.communicate(timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert proc.returncode == 0, out
    assert f"removed a stale DeepSpeed op build lock {lock}" in out and not os.path.exists(lock)


def _venv(path: str) -> str:
    """A second "checkout's" virtualenv: its own prefix and ninja, this venv's packages."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", path], check=True)
    site = sysconfig.get_path("purelib", vars={"base": path, "platbase": path})
    with open(os.path.join(site, "ocr_ds_test.pth"), "w") as f:
        f.write(f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    os.symlink(shutil.which("ninja", path=os.path.dirname(sys.executable)),
               os.path.join(path, "bin", "ninja"))
    return os.path.join(path, "bin", "python")


def test_two_venvs_alternate_without_rebuilding_and_a_stale_lock_is_one_line(built_op, tmp_path):
    """Two checkouts' venvs, each with its build as `make setup` left it; the first has a lock
    left by a build killed midway (nobody holds it). Runs alternate a, b, a: the stale lock goes
    with one line (without the fix: a silent wait, forever), each run uses its own directory,
    and nothing is rebuilt in either."""
    pythons = [_venv(str(tmp_path / name)) for name in ("checkout_a", "checkout_b")]
    builds = [_copy_build(built_op, str(tmp_path / name / "torch_extensions"))
              for name in ("checkout_a", "checkout_b")]
    lock = os.path.join(builds[0], "lock")
    open(lock, "w").close()
    stamps = [_stamp(b) for b in builds]
    env = _env()
    outs = []
    for i in (0, 1, 0):
        proc = _ops_build(pythons[i], env)
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0 and f"in {os.path.dirname(builds[i])}" in out, out
        outs.append(out)
    lines = [line for line in outs[0].splitlines() if "build lock" in line]
    assert len(lines) == 1 and lines[0].startswith(
        f"removed a stale DeepSpeed op build lock {lock}"), outs[0]
    assert not os.path.exists(lock) and "build lock" not in outs[1] + outs[2]
    assert [_stamp(b) for b in builds] == stamps  # no rebuild in either

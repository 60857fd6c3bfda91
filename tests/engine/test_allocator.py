"""CPU ranks keep freed memory (ocr_ds.engine.allocator): the page faults it saves, in this process
and in the processes it starts."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest

from ocr_ds.engine import allocator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malloc_probe.py")


def test_jemalloc_in_ld_preload_is_left_alone(monkeypatch):
    # the modes, the switch and MALLOC_* set by the user: test_cpu_malloc_modes.py
    for var in ("LD_PRELOAD", "GLIBC_TUNABLES", allocator.ENV_SWITCH, *allocator.GLIBC_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    assert allocator.setup_cpu_malloc(None, cpu=True) == "user: jemalloc (LD_PRELOAD)"
    assert "MALLOC_MMAP_MAX_" not in os.environ
    monkeypatch.delenv("LD_PRELOAD")
    assert allocator.setup_cpu_malloc(None, cpu=False) == "gpu"


def _start(mode: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in allocator.GLIBC_ENV and k != allocator.ENV_SWITCH}
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=ROOT, **(env_extra or {}))
    return subprocess.Popen([sys.executable, PROBE, mode], env=env, stdout=subprocess.PIPE,
                            text=True)


def _result(proc: subprocess.Popen) -> tuple[str, list[int]]:
    out = proc.communicate(timeout=300)[0].splitlines()
    assert proc.returncode == 0
    return out[0], json.loads(out[-1])


@pytest.mark.skipif(not allocator._glibc(), reason="glibc's malloc only")
def test_keep_makes_steady_steps_fault_free():
    # the third: a child started with the exported environment (the ranks of --gpus N)
    procs = [_start("keep"), _start("system"), _start("system", dict(allocator.GLIBC_ENV))]
    (applied, keep), (_, system), (_, child) = [_result(p) for p in procs]
    assert applied == "keep"
    # glibc's defaults map and unmap the 19 MB activations at every step: ~50k faults a step
    assert statistics.median(system[3:]) > 10_000, system
    assert statistics.median(keep[3:]) < 100, keep
    assert statistics.median(child[3:]) < 100, child

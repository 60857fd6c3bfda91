"""CPU ranks keep freed memory (ocr_ds.engine.allocator): the switch, and the page faults it saves."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import pytest

from ocr_ds.engine import allocator
from ocr_ds.errors import UserError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malloc_probe.py")


def test_switch_config_key_env_and_errors(monkeypatch):
    monkeypatch.delenv(allocator.ENV_SWITCH, raising=False)
    assert allocator.choose_mode(None) == "keep"
    assert allocator.choose_mode("system") == "system"
    with pytest.raises(UserError, match=r"^cpu_malloc: expected 'keep' or 'system' \(got 'off'\)$"):
        allocator.choose_mode("off")
    monkeypatch.setenv(allocator.ENV_SWITCH, "system")  # the environment wins over the config
    assert allocator.choose_mode("keep") == "system"
    assert allocator.setup_cpu_malloc("keep", cpu=True) == "system"
    monkeypatch.setenv(allocator.ENV_SWITCH, "no")
    with pytest.raises(UserError, match=r"^OCR_DS_CPU_MALLOC: expected 'keep' or 'system'"):
        allocator.choose_mode(None)


def test_an_allocator_the_user_set_up_is_left_alone(monkeypatch):
    for var in ("LD_PRELOAD", "GLIBC_TUNABLES", allocator.ENV_SWITCH, *allocator.GLIBC_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
    assert allocator.setup_cpu_malloc(None, cpu=True) == "user: jemalloc (LD_PRELOAD)"
    monkeypatch.delenv("LD_PRELOAD")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1000000")
    assert allocator.setup_cpu_malloc(None, cpu=True) == "user: MALLOC_TRIM_THRESHOLD_"
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "1000000"
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

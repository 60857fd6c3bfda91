"""CPU ranks keep the memory they free: glibc's malloc told not to hand it back between steps.

A training step frees and re-allocates the same activations every iteration. glibc's defaults
return large blocks (``mmap``-ed, above a threshold that grows to 32 MiB) and the free top of
the heap (above ``M_TRIM_THRESHOLD``) to the kernel at every ``free``, so the next step's
first touch of the same sizes page-faults through freshly zeroed pages again: about 190k minor
faults and a quarter of the time of a DBNet-R18 step (batch 4, 640x640) on the CPU. With
``M_MMAP_MAX=0`` (every block from the heap) and an unbounded ``M_TRIM_THRESHOLD`` (the heap
never shrinks) a steady-state step faults no page at all (``benchmarks/peer_step.py``).
The price: a rank's resident memory stays at its peak (it would reach the peak anyway, every
step), and memory freed by one phase (evaluation) is kept for the next.

Applied in this process with ``mallopt(3)``, which acts at once on every later ``malloc``/
``free`` (so no launcher has to export anything before Python starts), and exported as glibc's
``MALLOC_MMAP_MAX_``/``MALLOC_TRIM_THRESHOLD_`` so that processes started from this one (the
ranks of ``--gpus N``, data-loader workers under ``mp_start_method='spawn'``) start with it.

Switch: the config key ``cpu_malloc`` (``'keep'``, the default, or ``'system'``: glibc's own
behaviour), overridden by the environment variable ``OCR_DS_CPU_MALLOC`` (same values). An
allocator set up by the user is left alone: ``MALLOC_*`` variables or ``glibc.malloc``
tunables in the environment, or jemalloc/tcmalloc/mimalloc in ``LD_PRELOAD``. GPU ranks and
non-glibc systems are left alone too.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any

ENV_SWITCH = "OCR_DS_CPU_MALLOC"
CONFIG_KEY = "cpu_malloc"
MODES = ("keep", "system")
# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
# the same settings for processes started from this one: no mmap-ed blocks, never trim
GLIBC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**62)}
_USER_MARKERS = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                 "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")
_OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")
applied = "not set up"  #: what :func:`setup_cpu_malloc` did in this process (for the log)


def choose_mode(cfg_value: Any) -> str:
    """``'keep'`` or ``'system'``: ``OCR_DS_CPU_MALLOC`` if set, else the config's value."""
    from ocr_ds.errors import bad_value

    env = os.environ.get(ENV_SWITCH)
    if env:
        if env not in MODES:
            raise bad_value(ENV_SWITCH, env, "'keep' or 'system'")
        return env
    if cfg_value is None:
        return "keep"
    if cfg_value not in MODES:
        raise bad_value(CONFIG_KEY, cfg_value, "'keep' or 'system'")
    return cfg_value


def user_allocator() -> str | None:
    """What the user set up themselves (then we touch nothing), or None."""
    preload = os.environ.get("LD_PRELOAD", "")
    for name in _OTHER_ALLOCATORS:
        if name in preload:
            return f"{name} (LD_PRELOAD)"
    for var in _USER_MARKERS:
        if var in os.environ and os.environ[var] != GLIBC_ENV.get(var):  # ours: inherited
            return var
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return "GLIBC_TUNABLES"
    return None


def _glibc() -> Any | None:
    if not os.confstr_names.get("CS_GNU_LIBC_VERSION") or \
            not str(os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def setup_cpu_malloc(cfg_value: Any = None, cpu: bool | None = None) -> str:
    """Apply the setting to this process and its future children; returns what was done:
    ``'keep'``, ``'system'``, ``'user: <what>'``, ``'gpu'`` or ``'not glibc'``."""
    global applied
    applied = _setup(choose_mode(cfg_value), cpu)
    return applied


def _setup(mode: str, cpu: bool | None) -> str:
    if mode == "system":
        return mode
    if cpu is None:
        import torch

        cpu = not torch.cuda.is_available()
    if not cpu:
        return "gpu"
    user = user_allocator()
    if user is not None:
        return f"user: {user}"
    libc = _glibc()
    if libc is None:
        return "not glibc"
    # -1 is SIZE_MAX to glibc (the value is a size_t inside): the heap is never trimmed
    if libc.mallopt(M_MMAP_MAX, 0) != 1 or libc.mallopt(M_TRIM_THRESHOLD, -1) != 1:
        return "system"  # an allocator that refuses: nothing changed
    os.environ.update(GLIBC_ENV)
    return mode

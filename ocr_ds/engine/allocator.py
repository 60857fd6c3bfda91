"""CPU ranks: how glibc's malloc treats the memory a step frees - kept for speed, or returned
to the system under ZeRO. The one place that decides the allocator set-up.

PyTorch allocates CPU tensors with ``malloc``. glibc's defaults serve large requests with
``mmap`` (from a threshold that starts at 128 KiB and rises, after each large ``free``, to the
freed size, up to 32 MiB) and return them, and the free top of the heap, to the kernel at every
``free``. Two goals pull apart:

* ``'keep'`` (speed): a training step frees and re-allocates the same activations every
  iteration; returned memory comes back as freshly zeroed pages, each touched page a fault
  (about 190k minor faults and a quarter of the time of a DBNet-R18 step, batch 4, 640x640).
  With ``M_MMAP_MAX=0`` (every block from the heap) and an unbounded ``M_TRIM_THRESHOLD`` (the
  heap never shrinks) a steady-state step faults no page (``benchmarks/peer_step.py``). Price:
  the resident memory stays at its high-water mark, fragmentation included.
* ``'return'`` (memory): ZeRO's point is to free gathered parameters, gradient buckets and the
  optimizer's per-sub-group copies right after use. Kept on the heap they stay resident: with
  ``'keep'`` a ZeRO-3 rank of the 58 M-parameter wide CRNN grew by as much as a ZeRO-0 rank
  (1.02 x; glibc's own defaults, which stop mapping anything under 32 MiB after the model is
  partitioned, 1.3 x). Fixing ``M_MMAP_THRESHOLD`` at :data:`MMAP_THRESHOLD` maps every block
  from 1 MiB up and unmaps it when freed: 0.64 x (``benchmarks/zero_memory.py``, issue 18).
  Price: those blocks fault again each step.

Default (``cpu_malloc`` unset or ``'auto'``): ``'return'`` when ZeRO stage >= 1 (a user who
turns ZeRO on on CPU ranks does it for memory), else ``'keep'``. ``'system'``: glibc's own.

Applied in this process with ``mallopt(3)``, which acts at once on every later ``malloc``/
``free`` (so no launcher has to export anything before Python starts), and exported as glibc's
``MALLOC_*`` variables so that processes started from this one (the ranks of ``--gpus N``,
data-loader workers under ``mp_start_method='spawn'``) start with it.

Switch: the config key ``cpu_malloc`` (``'auto'``, ``'keep'``, ``'return'``, ``'system'``),
overridden by the environment variable ``OCR_DS_CPU_MALLOC`` (same values). An allocator set up
by the user is left alone: ``MALLOC_*`` variables or ``glibc.malloc`` tunables in the
environment, or jemalloc/tcmalloc/mimalloc in ``LD_PRELOAD``. GPU ranks and non-glibc systems
are left alone too.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from typing import Any, Mapping

ENV_SWITCH = "OCR_DS_CPU_MALLOC"
CONFIG_KEY = "cpu_malloc"
MODES = ("auto", "keep", "return", "system")
_EXPECTED = "'auto', 'keep', 'return' or 'system'"
# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
#: 'return': blocks from this size on are mapped and unmapped; smaller ones (many, short-lived:
#: Python objects, small tensors) stay on the heap
MMAP_THRESHOLD = 1 << 20
#: the same settings for processes started from this one, per mode
GLIBC_ENVS = {"keep": {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**62)},
              "return": {"MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD)}}
GLIBC_ENV = GLIBC_ENVS["keep"]
_OURS = {k: v for env in GLIBC_ENVS.values() for k, v in env.items()}
_USER_MARKERS = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                 "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")
_OTHER_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")
applied = "not set up"  #: what :func:`setup_cpu_malloc` did in this process (for the log)


def zero_stage(cfg: Mapping, ds_overrides: Mapping | None = None) -> int:
    """The ZeRO stage the run asks for (``--deepspeed-config`` over the config's ``deepspeed``
    section); 0 when unset or not a number (the translator reports bad values)."""
    stage = 0
    for section in ((cfg.get("deepspeed") or {}), (ds_overrides or {})):
        zero = section.get("zero_optimization") if isinstance(section, Mapping) else None
        if isinstance(zero, Mapping) and "stage" in zero:
            stage = zero["stage"]
    return stage if isinstance(stage, int) and not isinstance(stage, bool) else 0


def choose_mode(cfg_value: Any, zero: int = 0) -> str:
    """``'keep'``, ``'return'`` or ``'system'``: ``OCR_DS_CPU_MALLOC`` if set, else the config's
    value; ``'auto'`` (the default) is ``'return'`` at ZeRO stage ``zero`` >= 1, else
    ``'keep'``."""
    from ocr_ds.errors import bad_value

    mode = os.environ.get(ENV_SWITCH)
    if mode:
        if mode not in MODES:
            raise bad_value(ENV_SWITCH, mode, _EXPECTED)
    else:
        mode = "auto" if cfg_value is None else cfg_value
        if mode not in MODES:
            raise bad_value(CONFIG_KEY, cfg_value, _EXPECTED)
    if mode == "auto":
        return "return" if zero >= 1 else "keep"
    return mode


def user_allocator() -> str | None:
    """What the user set up themselves (then we touch nothing), or None."""
    preload = os.environ.get("LD_PRELOAD", "")
    for name in _OTHER_ALLOCATORS:
        if name in preload:
            return f"{name} (LD_PRELOAD)"
    for var in _USER_MARKERS:
        if var in os.environ and os.environ[var] != _OURS.get(var):  # ours: inherited
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


def setup_cpu_malloc(cfg_value: Any = None, cpu: bool | None = None, zero: int = 0) -> str:
    """Apply the setting to this process and its future children; returns what was done:
    ``'keep'``, ``'return'``, ``'system'``, ``'user: <what>'``, ``'gpu'`` or ``'not glibc'``.

    ``zero``: the run's ZeRO stage (:func:`zero_stage`), which ``'auto'`` decides by."""
    global applied
    applied = _setup(choose_mode(cfg_value, zero), cpu)
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
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt.restype = ctypes.c_int
    if mode == "keep":
        # -1 is SIZE_MAX to glibc (the value is a size_t inside): the heap is never trimmed
        ok = libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, -1) == 1
    else:
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if not ok:
        return "system"  # an allocator that refuses: nothing changed
    os.environ.update(GLIBC_ENVS[mode])
    return mode

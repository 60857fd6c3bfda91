"""CPU ranks: give freed tensor memory back to the operating system (glibc's malloc).

PyTorch allocates CPU tensors with ``malloc``. glibc serves a request from ``mmap`` when it is at
least ``M_MMAP_THRESHOLD`` bytes (128 KiB at start) and returns that memory to the system when
it is freed, but each such free raises the threshold to the freed size, up to 32 MiB. After
DeepSpeed partitions a model (freeing its full tensors) every tensor under 32 MiB comes from
the heap instead, where freed memory stays resident for the process: with ZeRO-3, whose point
is to free gathered parameters and gradient buckets right after use, the resident memory of a
rank training the 58 M-parameter wide CRNN grew by 1.1 GB instead of 0.66 GB
(benchmarks/zero_memory.py, issue 18). Fixing the threshold stops the drift: tensors of at
least :data:`MMAP_THRESHOLD` bytes are mapped and unmapped, so what ZeRO frees is freed.
"""
from __future__ import annotations

import ctypes
import os

#: glibc's mallopt parameter number for the mmap threshold (malloc.h)
M_MMAP_THRESHOLD = -3
#: requests from this size on are mapped (and unmapped when freed); smaller ones, which are many
#: and short-lived (Python objects, small tensors), stay on the heap
MMAP_THRESHOLD = 1 << 20
#: glibc reads its tunables from these at start-up; a user who set one has chosen for himself
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def return_freed_memory(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True if it was set.

    Does nothing (False) where malloc is not glibc's or the user set malloc's tunables.
    """
    if any(os.environ.get(name) for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1

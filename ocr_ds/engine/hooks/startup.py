"""Where a run's start-up time went, in one log line after its first training iteration.

The time from the process's start to the end of the first iteration, split at the marks
:mod:`ocr_ds.engine.train` sets: Python and imports (until training code runs), the process
group (including DeepSpeed's comm op), model and data (datasets, loaders, checks), the DeepSpeed
engine (``deepspeed.initialize``, and a resume), and the first iteration. What a launcher spent
before this process started is not in it (``benchmarks/startup.py`` adds that).
"""
from __future__ import annotations

import os
import time
from typing import Any

from ocr_ds.engine.hooks.base import PRIORITIES, Hook


def process_start_time() -> float | None:
    """When this process started (seconds since the epoch; Linux, else None)."""
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


class StartupTimes(Hook):
    """Collects ``mark(name)`` calls; logs the phases once the first iteration ended."""

    priority = PRIORITIES["LOWEST"]

    def __init__(self) -> None:
        self.start = process_start_time()
        self.marks: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        """``phase`` ended now."""
        self.marks.append((phase, time.time()))

    def after_train_iter(self, runner: Any) -> None:
        if self.start is None or any(p == "first iteration" for p, _ in self.marks):
            return
        self.mark("first iteration")
        parts, before = [], self.start
        for phase, at in self.marks:
            parts.append(f"{phase} {at - before:.1f} s")
            before = at
        runner.logger.info("start-up: %.1f s from process start to the end of the first "
                           "iteration: %s", before - self.start, ", ".join(parts))

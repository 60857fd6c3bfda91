"""A progress bar for long loops (evaluation of a test set), as mmcv's ``ProgressBar`` shows it.

On a terminal: one line redrawn in place (``\\r``)::

    [>>>>>>>>>>>>>>>                ] 960/2000, 412.3 img/s, elapsed: 2s, ETA: 3s

Anywhere else (a log file, a pipe, SLURM's output file) a ``\\r`` line would pile up into one
huge line, so it prints plain lines instead, at most one per ``interval`` seconds plus the
last one::

    [960/2000] 412.3 img/s, elapsed: 2s, ETA: 3s
"""
from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class ProgressBar:
    """``update(n)`` after each batch; ``total`` items in all. Writes to ``stream`` (stdout)."""

    def __init__(self, total: int, stream: TextIO | None = None, interval: float = 10.0,
                 unit: str = "img"):
        self.total, self.unit, self.interval = max(int(total), 0), unit, interval
        self.stream = stream if stream is not None else sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0
        self.start = time.monotonic()
        self._last_line = -float("inf")
        if self.tty:
            self._draw()

    def _figures(self) -> tuple[float, int, str]:
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = f"{(self.total - self.done) / rate:.0f}s" if rate > 0 else "?"
        return rate, int(elapsed + 0.5), eta

    def _draw(self) -> None:
        rate, elapsed, eta = self._figures()
        tail = (f" {self.done}/{self.total}, {rate:.1f} {self.unit}/s, elapsed: {elapsed}s, "
                f"ETA: {eta}")
        width = max(10, min(50, shutil.get_terminal_size((80, 20)).columns - len(tail) - 3))
        filled = int(width * self.done / self.total) if self.total else width
        self.stream.write(f"\r[{'>' * filled}{' ' * (width - filled)}]{tail}")
        self.stream.flush()

    def update(self, n: int = 1) -> None:
        self.done = min(self.total, self.done + n)
        now = time.monotonic()
        if self.tty:
            self._draw()
        elif now - self._last_line >= self.interval or self.done >= self.total:
            self._last_line = now
            rate, elapsed, eta = self._figures()
            self.stream.write(f"[{self.done}/{self.total}] {rate:.1f} {self.unit}/s, "
                              f"elapsed: {elapsed}s, ETA: {eta}\n")
            self.stream.flush()

    def close(self) -> None:
        """End the redrawn line (a terminal); plain lines need nothing."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

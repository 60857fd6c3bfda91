"""The test-time progress bar: redrawn in place on a terminal, plain lines in a log."""
from __future__ import annotations

import io

from ocr_ds.engine.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_one_redrawn_bar():
    out = Terminal()
    bar = ProgressBar(10, stream=out)
    for _ in range(5):
        bar.update(2)
    bar.close()
    frames = out.getvalue().split("\r")[1:]
    assert len(frames) == 6 and out.getvalue().endswith("\n")  # the empty bar, then 5 updates
    assert [f.split("]")[1].split(",")[0].strip() for f in frames] == \
        ["0/10", "2/10", "4/10", "6/10", "8/10", "10/10"]
    assert frames[0].startswith("[ ") and frames[-1].startswith("[>>>>") and "> " not in frames[-1]
    assert " 10/10, " in frames[-1] and " img/s, elapsed: " in frames[-1] and "ETA: 0s" in frames[-1]
    assert "\n" not in out.getvalue()[:-1]


def test_log_gets_plain_lines_at_most_every_interval_and_the_last():
    out = io.StringIO()
    bar = ProgressBar(100, stream=out, interval=3600)
    for _ in range(10):
        bar.update(10)
    bar.close()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert [ln.split("]")[0] for ln in lines] == ["[10/100", "[100/100"]  # first, then last
    assert lines[-1].startswith("[100/100] ") and "img/s, elapsed: " in lines[-1]


def test_updates_past_the_total_stop_at_the_total():
    out = io.StringIO()
    bar = ProgressBar(37, stream=out, interval=0)
    bar.update(32)
    bar.update(16)  # ranks x batch overshoots on the last batch; padding is not counted
    assert out.getvalue().splitlines()[-1].startswith("[37/37] ")

"""The table of ``benchmarks/gpu_check.sh``: one row per run, read from what the run wrote.

    python benchmarks/gpu_check_report.py work_dirs/gpu_check

For each ``<model>_<precision>_zero<N>`` run: exit code and wall seconds (``<run>.rc``), images/s
(``samples_per_gpu`` / the mean ``time`` of the logged train intervals after the first, which
holds the warm-up and, for a model's first run, the data generation), peak GPU memory (the
largest ``memory`` logged: ``torch.cuda.max_memory_allocated`` in MiB), the loss-scale events
(the engine's ``fp16|bf16 gradient overflow (inf/nan) at iteration N: step skipped[, loss scale
now S]`` warnings) and the last logged loss.
"""
from __future__ import annotations

import glob
import json
import math
import os
import re
import sys

_OVERFLOW = re.compile(r"(?:fp16|bf16) gradient overflow \(inf/nan\) at iteration (\d+): "
                       r"step skipped(?:, loss scale now (\S+))?")


def _train_records(run_dir: str) -> list[dict]:
    paths = glob.glob(os.path.join(run_dir, "*.log.json"))
    if not paths:
        return []
    with open(max(paths, key=os.path.getmtime)) as f:
        return [r for r in (json.loads(line) for line in f if line.strip())
                if r.get("mode") == "train"]


def _batch_size(run_dir: str) -> int | None:
    for path in glob.glob(os.path.join(run_dir, "*.py")):  # the dumped final config
        m = re.search(r"samples_per_gpu\s*=\s*(\d+)", open(path).read())
        if m:
            return int(m.group(1))
    return None


def summarize(work: str, run: str) -> dict:
    """Everything the table shows for one run (None where the run did not produce it)."""
    run_dir = os.path.join(work, run)
    row: dict = {"run": run, "rc": None, "wall_s": None, "images_s": None, "peak_mib": None,
                 "overflows": 0, "last_scale": None, "loss": None}
    if os.path.exists(os.path.join(work, run + ".skipped")):
        row["rc"] = "skipped"
        return row
    try:
        rc, wall = open(os.path.join(work, run + ".rc")).read().split()
        row["rc"], row["wall_s"] = int(rc), int(wall)
    except (OSError, ValueError):
        return row
    records = _train_records(run_dir)
    batch = _batch_size(run_dir)
    timed = [r["time"] for r in records[1:] if "time" in r]
    if timed and batch:
        row["images_s"] = batch / (sum(timed) / len(timed))
    memories = [r["memory"] for r in records if "memory" in r]
    row["peak_mib"] = max(memories) if memories else None
    losses = [r["loss"] for r in records if "loss" in r]
    row["loss"] = losses[-1] if losses else None
    out = os.path.join(work, run + ".out")
    text = open(out, errors="replace").read() if os.path.exists(out) else ""
    events = _OVERFLOW.findall(text)
    row["overflows"] = len(events)
    row["last_scale"] = events[-1][1] if events else None
    return row


def _fmt(value, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return format(value, spec)


def report(work: str) -> str:
    runs = sorted({os.path.basename(p).rsplit(".", 1)[0]
                   for p in glob.glob(os.path.join(work, "*.rc")) +
                   glob.glob(os.path.join(work, "*.skipped"))})
    lines = ["| run | exit | wall s | images/s | peak GPU MiB | loss-scale events (last scale) "
             "| last loss |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        r = summarize(work, run)
        events = f"{r['overflows']}" + (f" ({r['last_scale']})" if r["last_scale"] else "")
        lines.append(f"| {run} | {_fmt(r['rc'])} | {_fmt(r['wall_s'])} | {_fmt(r['images_s'], '.1f')} "
                     f"| {_fmt(r['peak_mib'])} | {events} | {_fmt(r['loss'], '.4f')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        print("usage: python benchmarks/gpu_check_report.py WORK_DIR (the folder gpu_check.sh "
              "wrote)", file=sys.stderr)
        sys.exit(2)
    print(report(sys.argv[1]))

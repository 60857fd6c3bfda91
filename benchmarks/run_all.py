"""Every benchmark in one run, then one table of the ratios against their goals.

    python benchmarks/run_all.py [--quick] [--only engine_overhead zero_memory scaling data_throughput startup peer_step onnx_inference]
    python -m benchmarks [--quick]          (the same)

Each benchmark runs as its own process (``python benchmarks/<name>.py [--quick] --json FILE``),
its output shown as it goes, so a benchmark that starts process groups or DeepSpeed launchers
cannot disturb the next. ``data_throughput`` runs when benchmarks/data_throughput.py exists. The
summary lists each goal with the measured value; a benchmark that failed says so and the others
still run (exit code 1 then).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:   # run as a script: benchmarks.* must import
    sys.path.insert(0, ROOT)
ORDER = ("engine_overhead", "zero_memory", "scaling", "data_throughput", "startup", "peer_step",
         "onnx_inference")


def _engine_overhead(res: dict) -> list[tuple]:
    r = res["ratios"]
    return [("engine_overhead", "ours / bare DeepSpeed step time (a/b)", r["a/b"], "<= 1.03",
             r["a/b"] <= 1.03),
            ("engine_overhead", "ours / torch DDP step time (a/c)", r["a/c"], "<= 1.05",
             r["a/c"] <= 1.05)]


def _zero_memory(rows: list[dict]) -> list[tuple]:
    from benchmarks.zero_memory import goals

    out = []
    for config in dict.fromkeys(r.get("config", "") for r in rows):
        name = os.path.basename(config)
        for what, value, bound in goals([r for r in rows if r.get("config", "") == config]):
            if value is not None:
                out.append(("zero_memory", f"{name}: {what}", value, f"<= {bound}",
                            value <= bound))
    return out


def _scaling(rows: list[dict]) -> list[tuple]:
    return [("scaling", f"{os.path.basename(r['config'])}: samples/s 2 ranks / 1 rank", r["ratio"],
             ">= 1.8", r["ratio"] >= 1.8) for r in rows]


def _data_throughput(res) -> list[tuple]:
    """The data_throughput script's own summary, when it writes ``ratios``/``goals`` (else none)."""
    out = []
    if isinstance(res, dict):
        goals = res.get("goals", {})
        for name, value in (res.get("ratios") or {}).items():
            if isinstance(value, (int, float)):
                goal = goals.get(name, "(see output)")
                ok = value <= float(goal[3:]) if goal.startswith("<= ") else None
                out.append(("data_throughput", name, value, goal, ok))
    return out


def _startup(res: dict) -> list[tuple]:
    total = res["median"]["total"]
    return [("startup", "command -> first iteration, CRNN demo, 2 ranks (s)", total,
             f"<= {res['goal_s']:.0f}", total <= res["goal_s"]),
            ("startup", "the same / python -c 'import torch, deepspeed'",
             total / res["import_floor_s"], "(info)", None),
            ("startup", "train.py --gpus 2 / deepspeed --num_gpus 2 (start-up)",
             res["median_gpus"]["total"] / total, "(info)", None)]


def _peer_step(rows: list[dict]) -> list[tuple]:
    """Our step / MMOCR 0.6.3's per model and setting; the goal is on the recommended one."""
    out = []
    for r in rows:
        if r["setting"].startswith("mmocr") or "failed" in r:
            continue
        goal = r["setting"] == "best"
        out.append(("peer_step", f"{r['model']} {r['setting']}: step time / MMOCR 0.6.3's",
                    r["ratio"], "<= 0.9" if goal else "(info)", r["ratio"] <= 0.9 if goal else None))
        out.append(("peer_step", f"{r['model']} {r['setting']}: step CPU time / MMOCR 0.6.3's",
                    r["cpu_ratio"], "(info)", None))
    return out


def _onnx_inference(rows: list[dict]) -> list[tuple]:
    return [("onnx_inference", f"{r['case']}: ONNX Runtime / PyTorch test time", r["ratio"],
             "<= 1.0", r["ratio"] <= 1.0) for r in rows]


SUMMARIES: dict[str, Callable] = {"engine_overhead": _engine_overhead, "zero_memory": _zero_memory,
                                  "scaling": _scaling, "data_throughput": _data_throughput,
                                  "startup": _startup, "peer_step": _peer_step,
                                  "onnx_inference": _onnx_inference}


def run_one(name: str, quick: bool) -> tuple[int, object]:
    """Run benchmarks/<name>.py; (exit code, what it wrote with --json or None)."""
    script = os.path.join(HERE, f"{name}.py")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        cmd = [sys.executable, script, *(["--quick"] if quick else [])]
        helptext = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True,
                                  text=True).stdout
        if "--json" in helptext:
            cmd += ["--json", out]
        if quick and "--quick" not in helptext:
            cmd.remove("--quick")
        print(f"\n=== {name}: {' '.join(os.path.relpath(c, ROOT) if c == script else c for c in cmd[1:])}",
              flush=True)
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        code = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        result = None
        if code == 0 and os.path.exists(out):
            with open(out) as f:
                result = json.load(f)
        return code, result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="each benchmark's short mode")
    p.add_argument("--only", nargs="+", choices=ORDER, help="run these only")
    a = p.parse_args(argv)
    names = [n for n in (a.only or ORDER) if os.path.exists(os.path.join(HERE, f"{n}.py"))]
    skipped = [n for n in (a.only or ORDER) if n not in names]
    start = time.time()
    lines, failed = [], []
    for name in names:
        code, result = run_one(name, a.quick)
        if code != 0:
            failed.append(f"{name} (exit {code})")
        elif result is not None:
            lines += SUMMARIES[name](result)
    print(f"\n=== summary{' (--quick)' if a.quick else ''}: {time.strftime('%Y-%m-%d %H:%M')}, "
          f"{platform.node()}, {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}, {(time.time() - start) / 60:.1f} min")
    width = max([len(m) for _, m, *_ in lines] + [10])
    for bench, measure, value, goal, ok in lines:
        verdict = "" if ok is None else ("met" if ok else "NOT met")
        print(f"  {bench:<16} {measure:<{width}} {value:8.3f}  {goal:<10} {verdict}")
    for name in skipped:
        print(f"  {name:<16} not present (benchmarks/{name}.py)")
    for name in failed:
        print(f"  {name:<16} FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

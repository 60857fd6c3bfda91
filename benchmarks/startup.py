"""Start-up: the time from the command to the end of the first training iteration of the CRNN
demo on 2 ranks, and what it is spent on.

The command is the demo's own (``make demo``): ``deepspeed --num_gpus 2 ocr_ds/train.py --config
configs/textrecog/crnn/crnn_synth_cpu.py`` (``OMP_NUM_THREADS=1``), here for 2 iterations with
no checkpoint and no evaluation. After set-up: DeepSpeed's op is built (``make setup``) and the
demo data exists, both made before the first timed run (an untimed warm-up run, which also warms
the file cache, as on any second run). Each run's rank 0 logs where its own time went (the
``start-up:`` line of :mod:`ocr_ds.engine.hooks.startup`, measured from that process's start);
the launcher's share is the rest: from the command to the start of rank 0.

    launcher           the deepspeed command and DeepSpeed's launch.py until rank 0 runs
    Python and imports the rank's interpreter, torch, DeepSpeed, ocr_ds, config
    process group      torch.distributed with DeepSpeed's CPU comm op (loaded, not built)
    model and data     model, data sets, loaders and their checks, work dir and logs
    DeepSpeed engine   deepspeed.initialize (importing torch._dynamo, which any torch optimizer
                       does on its first construction, is most of it on this machine)
    first iteration    loading the first batch, forward, backward, step

Side by side, alternating with it: the same demo started by ``python ocr_ds/train.py CFG --gpus
2`` (ocr_ds's own launcher, which imports less than DeepSpeed's two launcher processes), and
``python -c "import torch, deepspeed"`` (the import floor of any process here). Rounds are
repeated (``--rounds``, medians reported).

    python benchmarks/startup.py [--quick] [--rounds 3] [--json FILE]

Goal (issue 14): at most 10 s from the command to the first iteration, after set-up, on this
machine (2 cores). Wall-clock time: on a loaded machine it measures the load.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks._common import TRAIN, child_env, failure, free_port, write_run_config  # noqa: E402

CONFIG = "configs/textrecog/crnn/crnn_synth_cpu.py"
GOAL_S = 10.0
_STARTUP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - ocr_ds - INFO - start-up: "
                      r"([\d.]+) s from process start to the end of the first iteration: (.*)$",
                      re.M)


def ensure_data() -> None:
    from ocr_ds.config import Config
    from ocr_ds.engine.synth import ensure_synth_data

    ensure_synth_data(Config.fromfile(os.path.join(ROOT, CONFIG)).get("synth_data"),
                      logging.getLogger("startup"))


def one_run(work_dir: str, launcher: str = "deepspeed") -> dict:
    """Run the demo command once (``deepspeed --num_gpus 2`` or ``train.py --gpus 2``); the
    seconds of each phase and in all."""
    os.makedirs(work_dir)
    cfg = write_run_config(work_dir, os.path.join(ROOT, CONFIG), 2,
                           ["evaluation = dict(interval=100000)"])
    if launcher == "deepspeed":
        cmd = [os.path.join(os.path.dirname(sys.executable), "deepspeed"), "--num_gpus", "2",
               "--master_port", str(free_port()), TRAIN, "--config", cfg]
    else:
        cmd = [sys.executable, TRAIN, cfg, "--gpus", "2"]
    cmd += ["--work-dir", work_dir, "--no-validate"]
    t0 = time.time()
    proc = subprocess.run(cmd, cwd=ROOT, env=child_env(), capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise failure("the demo command", proc)
    (log,) = glob.glob(os.path.join(work_dir, "*.log"))
    with open(log) as f:
        m = _STARTUP.search(f.read())
    if m is None:
        raise RuntimeError(f"no start-up line in {log}")
    end = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    phases = {"launcher": end - float(m.group(2)) - t0}
    for part in m.group(3).split(", "):
        name, seconds, _ = part.rsplit(" ", 2)
        phases[name] = float(seconds)
    phases["total"] = end - t0
    return phases


def import_floor() -> float:
    t0 = time.time()
    subprocess.run([sys.executable, "-c", "import torch, deepspeed"], cwd=ROOT, env=child_env(),
                   check=True, capture_output=True)
    return time.time() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one timed run")
    p.add_argument("--rounds", type=int, default=3, help="timed runs (median reported)")
    p.add_argument("--json", help="write the results to this file")
    a = p.parse_args(argv)
    rounds = 1 if a.quick else a.rounds
    subprocess.run([sys.executable, "-m", "ocr_ds.engine.ops", "build"], cwd=ROOT,
                   env=child_env(), check=True)  # what make setup did (nothing if it did)
    ensure_data()
    runs: dict[str, list[dict]] = {"deepspeed": [], "gpus": []}
    floors = []
    with tempfile.TemporaryDirectory() as tmp:
        one_run(os.path.join(tmp, "warm-up"))
        for i in range(rounds):  # the variants alternate, so both see the same load
            for launcher in runs:
                runs[launcher].append(one_run(os.path.join(tmp, f"{launcher}{i}"), launcher))
            floors.append(import_floor())
            print(f"round {i + 1}: deepspeed {runs['deepspeed'][-1]['total']:.1f} s, --gpus 2 "
                  f"{runs['gpus'][-1]['total']:.1f} s, imports {floors[-1]:.1f} s", flush=True)
    median = {k: sorted(v, key=lambda r: r["total"])[len(v) // 2] for k, v in runs.items()}
    floor = statistics.median(floors)
    print(f"\ncommand -> end of the first iteration, CRNN demo, 2 ranks (median of {rounds}, "
          f"load average {os.getloadavg()[0]:.1f}):")
    print(f"  {'':<20} {'deepspeed':>10} {'--gpus 2':>10}")
    for name in median["deepspeed"]:
        print(f"  {name:<20} {median['deepspeed'][name]:9.1f}s {median['gpus'][name]:9.1f}s")
    total = median["deepspeed"]["total"]
    print(f"  goal: `deepspeed --num_gpus 2` (make demo) <= {GOAL_S:.0f} s: "
          f"{'met' if total <= GOAL_S else 'NOT met'}")
    print(f"  side by side: python -c 'import torch, deepspeed' {floor:.1f} s; deepspeed total / "
          f"that = {total / floor:.2f}; --gpus 2 / deepspeed = "
          f"{median['gpus']['total'] / total:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"median": median["deepspeed"], "median_gpus": median["gpus"], "runs": runs,
                       "import_floor_s": floor, "goal_s": GOAL_S}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

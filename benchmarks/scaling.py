"""Scaling: training samples/s of 2 ranks vs 1 rank (one thread each) on the demo configs.

Each demo config (the CRNN and DBNet CPU demos) trains through ``deepspeed --num_gpus R
ocr_ds/train.py`` for a fixed number of iterations with R = 1 and R = 2, the same per-rank batch
(the config's ``data.samples_per_gpu``), ``OMP_NUM_THREADS=1``, no evaluation, no checkpoints,
and by default no data-loader workers, so each rank is one thread (``--workers -1`` keeps the
configs' own worker per rank: on 2 cores that worker's CPU time is free for the 1-rank run, whose
second core is idle, and taken from the compute of the 2-rank run).
Throughput is read from the run's JSON log: the iteration ``time`` (averaged over ranks and over
each logging interval of ``warmup`` iterations) of every iteration after the warm-up, so
start-up, data set indexing and the first slow steps are excluded:

    samples/s = R x samples_per_gpu / mean(time of iterations warmup+1 .. warmup+iters)

The 1-rank and 2-rank runs alternate (1, 2, 1, 2, ... per config) and the medians are compared.
``--pair`` adds a third run per round: two independent 1-rank jobs at the same time, whose
samples/s together are what two ranks could reach with no gradient all-reduce at all, sharing
only the machine (memory bandwidth, caches, the cores' clocks): pair / 1 rank is the machine's
share of a shortfall, 2 ranks / pair the communication's.
The demo data sets are generated once, before the first run, as the configs' ``synth_data``
asks (then reused: ``make demo`` finds them too).

    python benchmarks/scaling.py [--quick] [--rounds 2] [--configs crnn dbnet] [--pair]

Goal (issue 8): 2 ranks >= 1.8 x the samples/s of 1 rank. Needs two idle cores: on a loaded
machine the ratio measures the load.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks._common import TRAIN, failure, json_log, launch, write_run_config  # noqa: E402

CONFIGS = {
    "crnn": "configs/textrecog/crnn/crnn_synth_cpu.py",
    "dbnet": "configs/textdet/dbnet/dbnet_r18_synth_cpu.py",
}
#: (warm-up, timed) iterations per run, full and --quick
ITERS = {"crnn": ((10, 60), (5, 20)), "dbnet": ((5, 20), (3, 6))}  # timed: multiples of warm-up


def ensure_data(config: str) -> None:
    from ocr_ds.config import Config
    from ocr_ds.engine.synth import ensure_synth_data

    ensure_synth_data(Config.fromfile(os.path.join(ROOT, config)).get("synth_data"),
                      logging.getLogger("scaling"))


def samples_per_gpu(config: str) -> int:
    from ocr_ds.config import Config

    return int(Config.fromfile(os.path.join(ROOT, config))["data"]["samples_per_gpu"])


def throughput(config: str, ranks: int, warmup: int, iters: int, timeout: int = 1800,
               workers: int | None = None) -> float:
    """Samples/s over the timed iterations of one run of ``config`` on ``ranks`` ranks."""
    work_dir = tempfile.mkdtemp(prefix=f"ocr_ds_scaling{ranks}_")
    # log every `warmup` iterations (a multiple of it are timed): the per-iteration log line
    # (and its all-reduce of the loss over ranks) would tax the 2-rank runs only
    extra = [f"log_config = dict(interval={warmup}, hooks=[dict(type='TextLoggerHook')])"]
    if workers is not None:
        extra.append(f"data = dict(workers_per_gpu={workers}, persistent_workers={workers > 0})")
    cfg = write_run_config(work_dir, os.path.join(ROOT, config), warmup + iters, extra)
    proc = launch(TRAIN, ranks, ["--config", cfg, "--work-dir", work_dir, "--no-validate",
                                 "--seed", "0"], timeout)
    if proc.returncode != 0:
        raise failure(f"{config} on {ranks} rank(s)", proc)
    times = [r["time"] for r in json_log(work_dir)[1:]
             if r.get("mode") == "train" and r["iter"] > warmup]
    shutil.rmtree(work_dir, ignore_errors=True)
    if len(times) != iters // warmup:  # each record: the mean time of `warmup` iterations
        raise RuntimeError(f"{config}: expected {iters // warmup} timed log records, got "
                           f"{len(times)}")
    return ranks * samples_per_gpu(config) / statistics.mean(times)


def pair_throughput(config: str, warmup: int, iters: int, workers: int | None) -> float:
    """Samples/s of two independent 1-rank runs of ``config`` started together, added up."""
    with ThreadPoolExecutor(2) as pool:   # launch() gets each run its own free_port()
        runs = [pool.submit(throughput, config, 1, warmup, iters, workers=workers)
                for _ in range(2)]
        return sum(r.result() for r in runs)


def run(quick: bool = False, rounds: int | None = None, names=tuple(CONFIGS),
        workers: int | None = 0, pair: bool = False) -> list[dict]:
    """Measure, print the table and return one row per config (for benchmarks/run_all.py)."""
    rounds = rounds or (1 if quick else 2)
    rows = []
    for name in names:
        config = CONFIGS[name]
        ensure_data(config)
        warmup, iters = ITERS[name][1 if quick else 0]
        sps: dict[int | str, list[float]] = {1: [], 2: [], **({"pair": []} if pair else {})}
        for i in range(rounds):
            for ranks in sps:
                what = "two 1-rank runs at once" if ranks == "pair" else f"{ranks} rank(s)"
                print(f"{name}: round {i + 1}/{rounds}, {what}, {warmup} + {iters} "
                      f"iterations ...", flush=True)
                sps[ranks].append(pair_throughput(config, warmup, iters, workers)
                                  if ranks == "pair" else
                                  throughput(config, ranks, warmup, iters, workers=workers))
        one, two = statistics.median(sps[1]), statistics.median(sps[2])
        both = statistics.median(sps["pair"]) if pair else None
        rows.append(dict(name=name, config=config, batch=samples_per_gpu(config), one=one,
                         two=two, ratio=two / one, pair=both, runs=sps))
    loader = ("the configs' own data-loader workers" if workers is None else
              f"{workers} data-loader workers per rank")
    print(f"scaling, CPU ranks x 1 thread, {loader}, same batch per rank, median of {rounds} "
          f"alternating round(s), warm-up excluded")
    print(f"  {'config':<48} {'batch':>5} {'1 rank/s':>9} {'2 ranks/s':>10} {'ratio':>6}")
    for r in rows:
        print(f"  {r['config']:<48} {r['batch']:>5} {r['one']:9.1f} {r['two']:10.1f} "
              f"{r['ratio']:6.2f}  (goal >= 1.8: {'met' if r['ratio'] >= 1.8 else 'NOT met'})")
        if r["pair"]:
            print(f"    two independent 1-rank runs at once: {r['pair']:.1f} samples/s = "
                  f"{r['pair'] / r['one']:.2f} x 1 rank (the machine's ceiling); 2 ranks reach "
                  f"{r['two'] / r['pair']:.2f} of it (the rest is the gradient all-reduce)")
    print(f"  machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round of short runs")
    p.add_argument("--rounds", type=int, help="alternating 1-rank/2-rank rounds (default 2)")
    p.add_argument("--configs", nargs="+", choices=sorted(CONFIGS), default=list(CONFIGS))
    p.add_argument("--workers", type=int, default=0,
                   help="data-loader workers per rank in every run (default 0: one thread per "
                        "rank, as the goal says; -1: the config's own)")
    p.add_argument("--pair", action="store_true",
                   help="also time two independent 1-rank runs at once (the machine's share of "
                        "a shortfall, apart from the gradient all-reduce)")
    p.add_argument("--json", help="also write the table's rows to this file")
    a = p.parse_args()
    rows = run(a.quick, a.rounds, a.configs, None if a.workers < 0 else a.workers, a.pair)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()

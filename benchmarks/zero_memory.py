"""ZeRO memory: what each rank holds and how much real memory it uses, at ZeRO stages 0-3.

For every stage one real DeepSpeed job (``deepspeed --num_gpus 2 ocr_ds/train.py``, fp32, Adam;
CPU ranks, or GPUs when there are) trains a config (default: the 58 M-parameter wide CRNN,
configs/textrecog/crnn/crnn_wide_synth.py; ``--config A B`` for several, one table each) for a
few iterations. At ZeRO-2 and ZeRO-3 it runs twice, side by side: with ocr_ds's buffer sizes
(derived from the model by ocr_ds/translate/zero_buffers.py) and with DeepSpeed's defaults
(given explicitly, so nothing is derived). In the measured (last) iteration each rank records,
with :func:`ocr_ds.engine.memory.rank_state_bytes`, the storage it holds for

* parameters: ``p.data`` / the flat buffer it views; at ZeRO-3 the partitions ``p.ds_tensor``
  (plus the small parameters DeepSpeed keeps whole: ``stage3_param_persistence_threshold``);
* master weights: ZeRO-1/2's fp32 copy of this rank's slice (``single_partition_of_fp32_groups``);
* gradients: ``p.grad`` at ZeRO-0, DeepSpeed's partitioned gradient buffers at ZeRO-1/2/3;
* optimizer state: the tensors in Adam's ``state`` (``exp_avg``, ``exp_avg_sq``, ``step``);
* other: what else the engine/optimizer keeps (communication buckets), reported, not totalled,

at three moments: right after ``engine.backward``, inside ``engine.step`` just before the torch
optimizer updates, and after ``engine.step`` ("held" = after backward, "peak" = the largest).
Beside that state it records the real memory: the growth of the process's resident memory
since just before the model was built, sampled at those moments ("RSS+") and at its peak over
the whole run ("peak+": the kernel's high-water mark, reset before the model is built; the peak
resident set is also what the log's ``memory`` field reports on CPU ranks). On GPUs the same
columns are CUDA memory allocated by tensors (``torch.cuda.memory_allocated`` /
``max_memory_allocated``, reset before the model is built), which the log reports there.
Step time: the median ``time`` of the JSON log's iterations, the first (warm-up) and the
measured one left out.

    python benchmarks/zero_memory.py [--quick] [--config A.py B.py] [--stages 0 2 3] [--ranks 2]
                                     [--tiny-data]   # MMOCR's academic configs, no data sets
                                     [--bf16]        # DeepSpeed's bf16 (bf16 weights and
                                                     # gradients, fp32 master and Adam state)

Goals, per rank, ocr_ds's sizes: the held state at ZeRO-3 <= 0.55 x ZeRO-0 (issue 8); the
memory growth (RSS+) at ZeRO-3 <= 0.6 x ZeRO-0, at ZeRO-2 <= 0.8 x; the held state's peak inside
the ZeRO-3 step <= 0.6 x; step time at ZeRO-2/3 no worse than with DeepSpeed's defaults (issue
18). Bytes do not depend on machine load; times do.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks._common import failure, json_log, launch, write_run_config  # noqa: E402
from ocr_ds.translate.zero_buffers import SIZES  # noqa: E402
BIG_CONFIG = os.path.join(ROOT, "configs", "textrecog", "crnn", "crnn_wide_synth.py")
KINDS = ("params", "master", "grads", "optimizer")
MOMENTS = ("after_backward", "at_step", "after_step")
MB = 2**20
#: DeepSpeed 0.19.8's own buffer sizes, given explicitly (so ocr_ds derives none) for the
#: side-by-side runs
DEEPSPEED_DEFAULTS = {s.key: s.default for s in SIZES}
#: the config line of --bf16: DeepSpeed's bf16 mode
BF16 = "bf16 = dict(enabled=True)"


# -- inside each rank ----------------------------------------------------------------------------
def _memory_now() -> int:
    """Bytes in use now: CUDA memory allocated by tensors, else this process's resident set."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.memory_allocated()
    import psutil

    return psutil.Process().memory_info().rss


def _reset_peak() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        return
    try:  # Linux >= 4.0: "5" resets the resident high-water mark (VmHWM) of this process
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass  # the peak then counts from the start of the process (still an upper bound)


def _peak() -> int:
    """The high-water mark of :func:`_memory_now` since :func:`_reset_peak`."""
    import resource

    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated()
    try:  # this address space's own high-water mark (ru_maxrss also keeps the launcher's)
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def worker(argv: list[str]) -> int:
    """Run ocr_ds/train.py's main with probes on the engine; write memory_rank<r>.json."""
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--measure-iter", type=int, required=True)
    own, rest = p.parse_known_args(argv)
    import torch

    from ocr_ds import train as train_cli
    from ocr_ds.engine import allocator, builder
    from ocr_ds.engine.memory import inner_optimizer, rank_state_bytes

    record: dict = {}
    build_model, build_engine = builder.build_model, builder.build_engine

    def probed_build_model(cfg, *args, **kwargs):
        _reset_peak()
        record["rss_before_model"] = _memory_now()
        return build_model(cfg, *args, **kwargs)

    def snapshot(moment: str, engine) -> None:
        record[moment] = dict(rank_state_bytes(engine), rss=_memory_now())

    def probed_build_engine(model, ds_config, *args, **kwargs):
        engine = build_engine(model, ds_config, *args, **kwargs)
        record["num_params"] = sum(getattr(p, "ds_numel", p.numel()) for p in engine.module.parameters())
        record["stage"] = engine.zero_optimization_stage()
        record["rank"] = torch.distributed.get_rank()
        record["world_size"] = torch.distributed.get_world_size()
        record["device"] = "cuda" if torch.cuda.is_available() else "cpu"
        record["zero_config"] = ds_config.get("zero_optimization", {})
        record["cpu_malloc"] = allocator.applied   # what ocr_ds set glibc's malloc to
        calls = {"backward": 0, "step": 0}
        in_measured_step = [False]
        backward, step = engine.backward, engine.step

        def probed_backward(loss, *a, **k):
            out = backward(loss, *a, **k)
            calls["backward"] += 1
            if calls["backward"] == own.measure_iter:
                snapshot("after_backward", engine)
            return out

        def probed_step(*a, **k):
            in_measured_step[0] = calls["step"] + 1 == own.measure_iter
            out = step(*a, **k)
            in_measured_step[0] = False
            calls["step"] += 1
            record.setdefault("cpu_s", []).append(time.process_time())  # all threads, seconds
            if calls["step"] == own.measure_iter:
                snapshot("after_step", engine)
                record["peak_rss"] = _peak()
                with open(os.path.join(own.out, f"memory_rank{record['rank']}.json"), "w") as f:
                    json.dump(record, f)
            return out

        def inner_pre_step(optimizer, args, kwargs):
            # ZeRO-3 steps the torch optimizer once per parameter sub-group: keep the fullest
            if in_measured_step[0]:
                before = record.get("at_step")
                snapshot("at_step", engine)
                if before is not None and _total(before) > _total(record["at_step"]):
                    record["at_step"] = before

        inner_optimizer(engine).register_step_pre_hook(inner_pre_step)
        engine.backward, engine.step = probed_backward, probed_step
        return engine

    builder.build_model, builder.build_engine = probed_build_model, probed_build_engine
    return train_cli.main(rest)


# -- the driver ----------------------------------------------------------------------------------
def measure(config: str, stage: int, *, ranks: int = 2, iters: int = 3, batch: int | None = None,
            zero: dict | None = None, work_dir: str | None = None, timeout: int = 1800,
            cwd: str = ROOT, extra: tuple[str, ...] = ()) -> list[dict]:
    """Train ``config`` for ``iters`` iterations at ZeRO ``stage`` on ``ranks`` ranks, started
    from ``cwd`` (where the config's relative data paths resolve); return each rank's record
    (moments -> bytes by kind, memory in use, peak), measured in the last iteration, with the
    run's iteration times (``times``, seconds, from its JSON log) and the process CPU seconds
    at each step's end (``cpu_s``)."""
    own_dir = work_dir is None
    work_dir = work_dir or tempfile.mkdtemp(prefix=f"ocr_ds_zero{stage}_")
    os.makedirs(work_dir, exist_ok=True)
    zero = dict(zero or {}, stage=stage)
    lines = [f"deepspeed = dict(zero_optimization={zero!r})", *extra]
    if batch is not None:
        lines.append(f"data = dict(samples_per_gpu={batch})")
    cfg_path = write_run_config(work_dir, config, iters, lines)
    proc = launch(os.path.abspath(__file__), ranks,
                  ["--worker", "--out", work_dir, "--measure-iter", str(iters), "--config", cfg_path,
                   "--work-dir", work_dir, "--no-validate", "--seed", "0"], timeout, cwd)
    files = sorted(glob.glob(os.path.join(work_dir, "memory_rank*.json")))
    if proc.returncode != 0 or len(files) != ranks:
        raise failure(f"ZeRO-{stage} run ({len(files)} of {ranks} rank records)", proc)
    records = []
    for path in files:
        with open(path) as f:
            records.append(json.load(f))
    times = [r["time"] for r in json_log(work_dir) if r.get("mode") == "train" and "time" in r]
    for r in records:
        r["times"] = times
    if own_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    return sorted(records, key=lambda r: r["rank"])


def _total(fig: dict) -> int:
    return sum(fig[k] for k in KINDS)


def summarize(results: dict[tuple[str, int], list[dict]]) -> list[dict]:
    """One row per (sizes, stage): rank 0's bytes by kind after backward, its peak over the
    three moments, the largest rank's memory growth (sampled and peak) since before the model,
    rank 0's step time;
    ``*_ratio`` against the ZeRO-0 row."""
    rows = []
    for (sizes, stage), records in results.items():
        r0 = records[0]
        fig = r0["after_backward"]
        peak_moment = max(MOMENTS, key=lambda m: _total(r0[m]))
        timed = r0["times"][1:-1]   # the first warms up; the last is the measured (probed) one
        cpu = [b - a for a, b in zip(r0["cpu_s"], r0["cpu_s"][1:])][:-1]
        rows.append(dict(
            sizes=sizes, stage=stage, num_params=r0["num_params"], device=r0.get("device", "cpu"),
            **{k: fig[k] for k in KINDS},
            held=_total(fig), peak=_total(r0[peak_moment]), peak_moment=peak_moment,
            max_rank_peak=max(_total(r[m]) for r in records for m in MOMENTS),
            other=max(r0[m]["other"] for m in MOMENTS),
            rss_growth=max(r[m]["rss"] - r["rss_before_model"] for r in records for m in MOMENTS),
            peak_growth=max(r["peak_rss"] - r["rss_before_model"] for r in records),
            step_s=statistics.median(timed) if timed else None,
            cpu_s=statistics.median(cpu) if cpu else None,
            zero_config=r0.get("zero_config", {}), cpu_malloc=r0.get("cpu_malloc")))
    base = next((r for r in rows if r["stage"] == 0), None)
    for r in rows:
        for name in ("held", "peak", "rss_growth", "peak_growth"):
            r[f"{name}_ratio"] = r[name] / base[name] if base and base[name] else None
        ds = next((d for d in rows if d["sizes"] == "deepspeed" and d["stage"] == r["stage"]), None)
        r["step_vs_deepspeed"] = (r["step_s"] / ds["step_s"] if ds and r["sizes"] == "ocr_ds"
                                  and r["step_s"] and ds["step_s"] else None)
    return rows


def goals(rows: list[dict]) -> list[tuple[str, float | None, float]]:
    """(what, measured ratio or None, the goal's upper bound), one per goal of issue 18."""
    by = {(r["sizes"], r["stage"]): r for r in rows}

    def get(sizes, stage, key):
        return (by.get((sizes, stage)) or {}).get(key)

    return [("ZeRO-3 / ZeRO-0 held state (issue 8)", get("ocr_ds", 3, "held_ratio"), 0.55),
            ("ZeRO-3 / ZeRO-0 memory growth", get("ocr_ds", 3, "rss_growth_ratio"), 0.6),
            ("ZeRO-2 / ZeRO-0 memory growth", get("ocr_ds", 2, "rss_growth_ratio"), 0.8),
            ("ZeRO-3 / ZeRO-0 state peak inside the step", get("ocr_ds", 3, "peak_ratio"), 0.6),
            ("ZeRO-2 step time, ocr_ds / DeepSpeed sizes", get("ocr_ds", 2, "step_vs_deepspeed"), 1.0),
            ("ZeRO-3 step time, ocr_ds / DeepSpeed sizes", get("ocr_ds", 3, "step_vs_deepspeed"), 1.0)]


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_table(rows: list[dict], ranks: int, config: str = BIG_CONFIG, bf16: bool = False) -> None:
    n, device = rows[0]["num_params"], rows[0]["device"]
    mem = "CUDA memory allocated" if device == "cuda" else "resident memory"
    precision = "bf16 (fp32 master weights) + Adam" if bf16 else "fp32 + Adam"
    print(f"{os.path.relpath(config, ROOT)}: ZeRO memory per rank, {ranks} {device.upper()} ranks, "
          f"{precision}, {n / 1e6:.1f} M parameters ({4 * n / MB:.0f} MB in fp32); MB = 2^20 bytes")
    print(f"  state by kind (rank 0) right after backward = 'held'; 'peak' = largest of after "
          f"backward / inside step / after step. RSS+ = growth of {mem} since before the model, "
          f"largest at those moments; peak+ = its high-water mark (largest rank)")
    print(f"  {'sizes':<9} {'stage':>5} {'params':>7} {'master':>7} {'grads':>7} {'optim':>7} "
          f"{'held':>7} {'vs Z0':>6} {'peak':>7} {'vs Z0':>6} {'other':>6} {'RSS+':>6} "
          f"{'vs Z0':>6} {'peak+':>6} {'vs Z0':>6} {'step s':>7} {'CPU s':>7} {'vs DS':>6}")
    for r in rows:
        times = ["-" if r[k] is None else f"{r[k]:.2f}" for k in ("step_s", "cpu_s")]
        print(f"  {r['sizes'] if r['stage'] else '-':<9} {r['stage']:>5} {r['params'] / MB:7.1f} "
              f"{r['master'] / MB:7.1f} {r['grads'] / MB:7.1f} {r['optimizer'] / MB:7.1f} "
              f"{r['held'] / MB:7.1f} {_ratio(r['held_ratio']):>6} {r['peak'] / MB:7.1f} "
              f"{_ratio(r['peak_ratio']):>6} {r['other'] / MB:6.0f} {r['rss_growth'] / MB:6.0f} "
              f"{_ratio(r['rss_growth_ratio']):>6} {r['peak_growth'] / MB:6.0f} "
              f"{_ratio(r['peak_growth_ratio']):>6} {times[0]:>7} {times[1]:>7} "
              f"{_ratio(r['step_vs_deepspeed']):>6}")
    if device == "cpu":
        print("  CPU malloc (ocr_ds.engine.allocator): " + ", ".join(
            f"ZeRO-{r['stage']} {r['cpu_malloc']}" for r in rows if r["sizes"] != "deepspeed"))
    for what, value, bound in goals(rows):
        if value is not None:
            print(f"  {what} = {value:.3f}  (goal <= {bound}: "
                  f"{'met' if value <= bound else 'NOT met'})")
    for stage in (2, 3):
        r = next((r for r in rows if r["sizes"] == "ocr_ds" and r["stage"] == stage), None)
        if r and r["peak_growth_ratio"] is not None:
            print(f"  (info) ZeRO-{stage} / ZeRO-0 peak+ = {r['peak_growth_ratio']:.3f}")
        if r:
            sizes = {k: v for k, v in r["zero_config"].items() if k != "stage"}
            print(f"  ocr_ds's ZeRO-{stage} sizes: {json.dumps(sizes)}")
    print("  held/peak = params + master + grads + optim; 'other' = further buffers the engine "
          "holds (buckets; torch.empty, so only touched pages are resident). step s = median wall "
          "time of an iteration, CPU s = the process's CPU time per step (less load-dependent), "
          "vs DS = step s against the same stage with DeepSpeed's sizes")


def run(quick: bool = False, stages=(0, 2, 3), ranks: int = 2, iters: int | None = None,
        batch: int | None = None, config: str = BIG_CONFIG, zero: dict | None = None,
        compare: bool = True, cwd: str = ROOT, extra: tuple[str, ...] = (),
        bf16: bool = False) -> list[dict]:
    """Measure every stage of ``config`` (at ZeRO-2/3 also with DeepSpeed's sizes when
    ``compare``; in DeepSpeed's bf16 mode when ``bf16``), print the table, return its rows (for
    benchmarks/run_all.py)."""
    iters = iters or (4 if quick else 6)
    batch = batch or (1 if quick else 4)
    if bf16:
        extra = (*extra, BF16)
    results = {}
    for stage in stages:
        variants = [("ocr_ds", dict(zero or {}))]
        if compare and stage in (2, 3):
            variants.append(("deepspeed", dict(DEEPSPEED_DEFAULTS, **(zero or {}))))
        for sizes, options in variants:
            print(f"{os.path.basename(config)} ZeRO-{stage}, {sizes}'s buffer sizes: {ranks} ranks x "
                  f"{iters} iterations, batch {batch} per rank ...", flush=True)
            results[(sizes, stage)] = measure(config, stage, ranks=ranks, iters=iters, batch=batch,
                                              zero=options, cwd=cwd, extra=extra)
    rows = summarize(results)
    print_table(rows, ranks, config, bf16)
    return [dict(r, config=os.path.relpath(config, ROOT), precision="bf16" if bf16 else "fp32")
            for r in rows]


def _tiny_data(config: str) -> str:
    """A temporary directory holding generated samples wherever ``config``'s data sets read."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "zoo"))
    from tiny_data import make_data

    from ocr_ds.config import Config

    root = tempfile.mkdtemp(prefix="ocr_ds_zero_data_")
    make_data(Config.fromfile(os.path.abspath(config)).to_dict(), root, images_per_set=8)
    return root


def main() -> None:
    if "--worker" in sys.argv[1:]:  # a rank started by the deepspeed launcher (see measure)
        args = [a for a in sys.argv[1:] if a != "--worker"]
        raise SystemExit(worker(args))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="4 iterations of batch 1 per run")
    p.add_argument("--stages", type=int, nargs="+", default=[0, 2, 3])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--iters", type=int, help="iterations per run; the last is measured (>= 3)")
    p.add_argument("--batch", type=int, help="samples per rank")
    p.add_argument("--config", nargs="+", default=[BIG_CONFIG],
                   help="one table per config (default: the wide CRNN)")
    p.add_argument("--no-compare", action="store_true",
                   help="skip the runs with DeepSpeed's default buffer sizes")
    p.add_argument("--zero-options", type=json.loads, default={}, metavar="JSON",
                   help="more zero_optimization settings for every run, e.g. "
                        "'{\"sub_group_size\": 10000000}' (they win over both sets of sizes)")
    p.add_argument("--cwd", default=ROOT, help="start the jobs here (the configs' relative data "
                   "paths resolve here; default: the repository root)")
    p.add_argument("--tiny-data", action="store_true",
                   help="write a few generated samples at the paths each config names (the zoo "
                   "tests' tests/zoo/tiny_data.py) in a temporary directory and start the jobs "
                   "there: MMOCR's academic configs without their data sets (memory does not "
                   "depend on what the images show)")
    p.add_argument("--bf16", action="store_true",
                   help="train in DeepSpeed's bf16 mode (bf16=dict(enabled=True): bf16 weights "
                   "and gradients, fp32 master weights and Adam state)")
    p.add_argument("--json", help="also write the tables' rows to this file")
    a = p.parse_args()
    if os.path.exists("/proc/loadavg"):
        print(f"load average: {open('/proc/loadavg').read().strip()} (times are noisy under load)")
    rows = []
    for config in a.config:
        cwd, extra = os.path.abspath(a.cwd), ()
        if a.tiny_data:
            cwd, extra = _tiny_data(config), ("data = dict(workers_per_gpu=0)",)
        rows += run(a.quick, a.stages, a.ranks, a.iters, a.batch, os.path.abspath(config),
                    a.zero_options, not a.no_compare, cwd, extra, a.bf16)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()

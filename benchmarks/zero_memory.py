"""ZeRO memory: the bytes of training state each rank holds at ZeRO stages 0, 1, 2 and 3.

For every stage one real DeepSpeed job (``deepspeed --num_gpus 2 ocr_ds/train.py``, CPU ranks,
fp32, Adam) trains the 58 M-parameter wide CRNN (configs/textrecog/crnn/crnn_wide_synth.py) for
a few iterations. In the measured iteration each rank records, with
:func:`ocr_ds.engine.memory.rank_state_bytes`, the storage it holds for

* parameters: ``p.data`` / the flat buffer it views; at ZeRO-3 the partitions ``p.ds_tensor``
  (plus the few small parameters DeepSpeed keeps whole: ``stage3_param_persistence_threshold``);
* master weights: ZeRO-1/2's fp32 copy of this rank's slice (``single_partition_of_fp32_groups``);
* gradients: ``p.grad`` at ZeRO-0, DeepSpeed's partitioned gradient buffers at ZeRO-1/2/3;
* optimizer state: the tensors in Adam's ``state`` (``exp_avg``, ``exp_avg_sq``, ``step``);
* other: what else the engine/optimizer keeps (communication buckets), reported but not totalled,

at three moments: right after ``engine.backward``, inside ``engine.step`` just before the torch
optimizer updates (gradients and last step's Adam state both alive) and after ``engine.step``.
The table shows the moment with the most bytes (the peak of the state, activations excluded),
and the growth of the process's resident memory since just before the model was built, as a
cross-check (it also holds activations the allocator kept, the data set index, libraries' heaps).

    python benchmarks/zero_memory.py [--quick] [--stages 0 1 2 3] [--ranks 2] [--iters 3]

Goal (issue 8): ZeRO-3 <= 0.55 x ZeRO-0 per rank. Bytes do not depend on machine load.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks._common import failure, launch, write_run_config  # noqa: E402
BIG_CONFIG = os.path.join(ROOT, "configs", "textrecog", "crnn", "crnn_wide_synth.py")
KINDS = ("params", "master", "grads", "optimizer")
MOMENTS = ("after_backward", "at_step", "after_step")
MB = 2**20


# -- inside each rank ----------------------------------------------------------------------------
def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def worker(argv: list[str]) -> int:
    """Run ocr_ds/train.py's main with probes on the engine; write memory_rank<r>.json."""
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--measure-iter", type=int, required=True)
    own, rest = p.parse_known_args(argv)
    import torch

    from ocr_ds import train as train_cli
    from ocr_ds.engine import builder
    from ocr_ds.engine.memory import rank_state_bytes

    record: dict = {}
    build_model, build_engine = builder.build_model, builder.build_engine

    def probed_build_model(cfg):
        record["rss_before_model"] = _rss()
        return build_model(cfg)

    def snapshot(moment: str, engine) -> None:
        record[moment] = dict(rank_state_bytes(engine), rss=_rss())

    def probed_build_engine(model, ds_config):
        engine = build_engine(model, ds_config)
        record["num_params"] = sum(getattr(p, "ds_numel", p.numel()) for p in engine.module.parameters())
        record["stage"] = engine.zero_optimization_stage()
        record["rank"] = torch.distributed.get_rank()
        record["world_size"] = torch.distributed.get_world_size()
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
            if calls["step"] == own.measure_iter:
                snapshot("after_step", engine)
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

        from ocr_ds.engine.memory import inner_optimizer

        inner_optimizer(engine).register_step_pre_hook(inner_pre_step)
        engine.backward, engine.step = probed_backward, probed_step
        return engine

    builder.build_model, builder.build_engine = probed_build_model, probed_build_engine
    return train_cli.main(rest)


# -- the driver ----------------------------------------------------------------------------------
def measure(config: str, stage: int, *, ranks: int = 2, iters: int = 3, batch: int | None = None,
            zero: dict | None = None, work_dir: str | None = None, timeout: int = 1800) -> list[dict]:
    """Train ``config`` for ``iters`` iterations at ZeRO ``stage`` on ``ranks`` CPU ranks; return
    each rank's record (moments -> bytes by kind, RSS), measured in the last iteration."""
    own_dir = work_dir is None
    work_dir = work_dir or tempfile.mkdtemp(prefix=f"ocr_ds_zero{stage}_")
    os.makedirs(work_dir, exist_ok=True)
    zero = dict(zero or {}, stage=stage)
    extra = [f"deepspeed = dict(zero_optimization={zero!r})"]
    if batch is not None:
        extra.append(f"data = dict(samples_per_gpu={batch})")
    cfg_path = write_run_config(work_dir, config, iters, extra)
    proc = launch(os.path.abspath(__file__), ranks,
                  ["--worker", "--out", work_dir, "--measure-iter", str(iters), "--config", cfg_path,
                   "--work-dir", work_dir, "--no-validate", "--seed", "0"], timeout)
    files = sorted(glob.glob(os.path.join(work_dir, "memory_rank*.json")))
    if proc.returncode != 0 or len(files) != ranks:
        raise failure(f"ZeRO-{stage} run ({len(files)} of {ranks} rank records)", proc)
    records = []
    for path in files:
        with open(path) as f:
            records.append(json.load(f))
    if own_dir:
        shutil.rmtree(work_dir, ignore_errors=True)
    return sorted(records, key=lambda r: r["rank"])


def _total(fig: dict) -> int:
    return sum(fig[k] for k in KINDS)


def summarize(results: dict[int, list[dict]]) -> list[dict]:
    """One row per stage: rank 0's bytes by kind after backward, its peak over the three
    moments, the largest rank's figures (ranks differ by partition padding) and RSS growth."""
    rows = []
    for stage, records in sorted(results.items()):
        r0 = records[0]
        fig = r0["after_backward"]
        peak_moment = max(MOMENTS, key=lambda m: _total(r0[m]))
        rows.append(dict(
            stage=stage, num_params=r0["num_params"], **{k: fig[k] for k in KINDS},
            held=_total(fig), peak=_total(r0[peak_moment]), peak_moment=peak_moment,
            max_rank_peak=max(_total(r[m]) for r in records for m in MOMENTS),
            other=max(r0[m]["other"] for m in MOMENTS),
            rss_growth=max(r0[m]["rss"] for m in MOMENTS) - r0["rss_before_model"]))
    base = next((r for r in rows if r["stage"] == 0), None)
    for r in rows:
        r["held_ratio"] = r["held"] / base["held"] if base else None
        r["peak_ratio"] = r["peak"] / base["peak"] if base else None
    return rows


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_table(rows: list[dict], ranks: int) -> None:
    n = rows[0]["num_params"]
    print(f"ZeRO memory per rank (rank 0), {ranks} CPU ranks, fp32 + Adam, {n / 1e6:.1f} M "
          f"parameters ({4 * n / MB:.0f} MB in fp32); MB = 2^20 bytes")
    print("  bytes by kind right after backward (gradients complete, Adam state of the previous "
          "step alive); 'peak' = the largest of after-backward / inside step / after step")
    print(f"  {'stage':>5} {'params':>8} {'master':>8} {'grads':>8} {'optim':>8} {'held':>8} "
          f"{'vs Z0':>6} {'peak':>8} {'vs Z0':>6} {'other':>8} {'RSS+':>7}")
    for r in rows:
        print(f"  {r['stage']:>5} {r['params'] / MB:8.1f} {r['master'] / MB:8.1f} "
              f"{r['grads'] / MB:8.1f} {r['optimizer'] / MB:8.1f} {r['held'] / MB:8.1f} "
              f"{_ratio(r['held_ratio']):>6} {r['peak'] / MB:8.1f} {_ratio(r['peak_ratio']):>6} "
              f"{r['other'] / MB:8.1f} {r['rss_growth'] / MB:7.0f}")
    z3 = next((r for r in rows if r["stage"] == 3), None)
    if z3 and z3["held_ratio"] is not None:
        for name in ("held", "peak"):
            ratio = z3[f"{name}_ratio"]
            print(f"  ZeRO-3 / ZeRO-0 ({name}) = {ratio:.3f}  (goal <= 0.55: "
                  f"{'met' if ratio <= 0.55 else 'NOT met'})")
    print("  held/peak = params + master + grads + optim. 'other' = further buffers the engine "
          "allocated (communication buckets; torch.empty, so only touched pages are resident);"
          " RSS+ = growth of resident memory since before the model was built (cross-check)")


def run(quick: bool = False, stages=(0, 1, 2, 3), ranks: int = 2, iters: int | None = None,
        batch: int | None = None, config: str = BIG_CONFIG, zero: dict | None = None) -> list[dict]:
    """Measure every stage, print the table, return its rows (for benchmarks/run_all.py)."""
    iters = iters or (2 if quick else 3)
    batch = batch or (1 if quick else 4)
    results = {}
    for stage in stages:
        print(f"ZeRO-{stage}: {ranks} ranks x {iters} iterations, batch {batch} per rank ...",
              flush=True)
        results[stage] = measure(config, stage, ranks=ranks, iters=iters, batch=batch, zero=zero)
    rows = summarize(results)
    print_table(rows, ranks)
    return rows


def main() -> None:
    if "--worker" in sys.argv[1:]:  # a rank started by the deepspeed launcher (see measure)
        args = [a for a in sys.argv[1:] if a != "--worker"]
        raise SystemExit(worker(args))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 iterations of batch 1 per stage")
    p.add_argument("--stages", type=int, nargs="+", default=[0, 1, 2, 3])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--iters", type=int, help="iterations per run; the last is measured (>= 2)")
    p.add_argument("--batch", type=int, help="samples per rank")
    p.add_argument("--config", default=BIG_CONFIG)
    p.add_argument("--zero-options", type=json.loads, default={}, metavar="JSON",
                   help="more zero_optimization settings for every run, e.g. "
                        "'{\"sub_group_size\": 10000000}' (default: DeepSpeed's)")
    p.add_argument("--json", help="also write the table's rows to this file")
    a = p.parse_args()
    rows = run(a.quick, a.stages, a.ranks, a.iters, a.batch, a.config, a.zero_options)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f)


if __name__ == "__main__":
    main()

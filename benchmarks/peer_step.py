"""ocr_ds's training step against MMOCR 0.6.3's own, on the same model, batch and optimizer.

    python benchmarks/peer_step.py [--quick] [--models dbnet crnn] [--settings default best ...]
                                   [--rounds 3] [--steps 3] [--json FILE]
    python benchmarks/peer_step.py --device cuda --ref-python python3 --ref-path DIR ...

For each model (DBNet-R18 at batch 4, 640x640, SGD; CRNN at batch 64, 1x32x100, Adadelta: the
models, batches and optimizers of MMOCR's ICDAR 2015 / academic configs) it starts one worker
process per side and setting, one thread each (``OMP_NUM_THREADS=1``):

- MMOCR's: ``peer_step_mmocr.py`` in the reference venv (``tests/parity/refenv.py``), MMOCR's
  model from MMOCR's config and mmcv's runner step (``train_step`` + ``OptimizerHook``);
- ocr_ds's: this script with ``--worker``: our model from our config with MMOCR's weights
  loaded (so the first losses must agree: printed as a check), a DeepSpeed engine from the
  translated config plus the setting's keys, and ``Runner.train_step`` (the loop's own step;
  every 10 steps the logger's check and averaging, as in training).

Both train the same fixed batch (``peer_batch.py``). After a warm-up step each, the workers take
turns: in each round every worker runs ``--steps`` steps while the others wait, so a busy
machine slows all sides alike. The ratio per setting is the median over rounds of (our median
step time / MMOCR's median step time in that round), for the wall-clock time and for the
process's CPU time (user + system: on a loaded machine the wall clock mostly measures the
load, the CPU time much less); minor page faults per step show what the allocator setting
changes. Under a dynamic loss scale (``fp16``, ``fp16_autocast``, ``mmocr_fp16``) the column
``skipped`` counts the timed steps whose gradients overflowed (no optimizer update: a cheaper
step), so a ratio bought by skipped steps shows.

``--device cuda`` (the GPU check, ``benchmarks/gpu_check.sh``): both sides train on the GPU, a
timed step ends with ``torch.cuda.synchronize()``, MMOCR's side runs as ``tools/train.py`` does on
one GPU (``MMDataParallel``; ``mmocr_fp16``: ``fp16 = dict(loss_scale='dynamic')``, mmcv's
``Fp16OptimizerHook``), and the mixed-precision settings of ours (``fp16``, ``fp16_autocast``,
``bf16``, ``bf16_ds``) are compared with ``mmocr_fp16`` when it runs (MMOCR 0.6.3 has no bf16).
``--ref-python``/``--ref-path`` run MMOCR's side with another Python than the reference venv's
(a ``--target`` install of mmcv-lite, mmdet and mmocr: ``benchmarks/gpu_wheels.sh``).
Settings (``--settings``; ``--list`` shows them):
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

#: ocr_ds settings: config keys set over the model's config (see README "Speed settings")
SETTINGS = {
    "default": ({}, "the config as MMOCR ships it (ocr_ds's defaults: cpu_malloc='keep')"),
    "system_malloc": ({"cpu_malloc": "system"}, "glibc's malloc defaults (what 'keep' buys)"),
    "best": ({"channels_last": True, "fused_optimizer": True},
             "the recommended fp32 settings: channels_last, fused_optimizer"),
    "bf16": ({"channels_last": True, "fused_optimizer": True,
              "autocast": {"dtype": "bfloat16"}},
             "best + bf16 autocast (other numbers: bf16 rounding)"),
    "compile": ({"channels_last": True, "fused_optimizer": True, "compile": True},
                "best + torch.compile (minutes of compiling first)"),
    "fp16": ({"channels_last": True, "fused_optimizer": True, "fp16": {"loss_scale": "dynamic"}},
             "best + DeepSpeed fp16, dynamic loss scale (GPUs only)"),
    "fp16_autocast": ({"channels_last": True, "fused_optimizer": True,
                       "autocast": {"dtype": "float16"}},
                      "best + fp16 autocast, torch's GradScaler at ZeRO-0 (MMOCR's own fp16 "
                      "mechanism; GPUs only)"),
    "fp16_zero1": ({"channels_last": True, "fused_optimizer": True, "fp16": {"loss_scale": "dynamic"},
                    "deepspeed": {"zero_optimization": {"stage": 1}}},
                   "fp16 at ZeRO-1: DeepSpeed's flat-buffer optimizer (one overflow check and one "
                   "norm over the flat gradients) in place of FP16_UnfusedOptimizer's per-tensor "
                   "loops for non-Adam optimizers (GPUs only)"),
    "bf16_ds": ({"channels_last": True, "fused_optimizer": True, "bf16": {"enabled": True}},
                "best + DeepSpeed bf16: bf16 weights, fp32 master copy (GPUs: on the CPU "
                "DeepSpeed's bf16 optimizer is slow)"),
}
#: MMOCR sides: (environment, precision)
MMOCR_SETTINGS = {"mmocr": ({}, "fp32"),
                  "mmocr_keep_malloc": ({"MALLOC_MMAP_MAX_": "0",
                                         "MALLOC_TRIM_THRESHOLD_": str(2**62)}, "fp32"),
                  "mmocr_fp16": ({}, "fp16")}
#: our mixed-precision settings, compared with ``mmocr_fp16`` when it runs
MIXED = ("fp16", "fp16_autocast", "fp16_zero1", "bf16", "bf16_ds")
CONFIGS = {"dbnet": "configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
           "crnn": "configs/textrecog/crnn/crnn_academic_dataset.py"}
SHAPES = {"dbnet": (4, 640), "crnn": (64, 0)}            # batch, image size
QUICK_SHAPES = {"dbnet": (2, 320), "crnn": (32, 0)}
__doc__ += "".join(f"\n- ``{k}``: {d}" for k, (_, d) in SETTINGS.items()) + \
    "\n- ``mmocr_keep_malloc`` (MMOCR side): MMOCR with our malloc settings, for comparison" \
    "\n- ``mmocr_fp16`` (MMOCR side, GPUs): MMOCR's ``fp16 = dict(loss_scale='dynamic')``\n"


# -- our worker ------------------------------------------------------------------------------
def our_worker(model_name: str, setting: str, weights: str, batch: int, size: int,
               device: str = "cpu") -> None:
    import logging

    from ocr_ds.engine.allocator import setup_cpu_malloc

    overrides = SETTINGS[setting][0]
    setup_cpu_malloc(overrides.get("cpu_malloc"), cpu=device == "cpu")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from benchmarks.peer_batch import crnn_batch, dbnet_batch, scale_drops, serve
    from ocr_ds.config import Config
    from ocr_ds.engine import builder
    from ocr_ds.engine.dist import free_port
    from ocr_ds.engine.runner import Runner, interval_means
    from ocr_ds.translate import translate

    t0 = time.perf_counter()
    os.environ.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(free_port()))
    builder.init_distributed()
    cfg = Config.fromfile(os.path.join(ROOT, CONFIGS[model_name]))
    if model_name == "dbnet":
        cfg["model"]["backbone"]["init_cfg"] = None
    cfg.merge_from_dict({k: v for k, v in overrides.items() if k != "cpu_malloc"})
    cfg["data"]["samples_per_gpu"] = batch
    cfg["data"].pop("train_dataloader", None)
    logger = logging.getLogger("peer_step")
    model = builder.build_model(cfg)
    builder.load_weights(model, weights, logger)
    tr = translate(cfg, world_size=1, accelerator=device)
    engine = builder.build_engine(model, tr.ds_config, tr.speed)
    runner = Runner(engine=engine, train_loader=None, hooks=[], work_dir=tempfile.gettempdir(),
                    max_epochs=None, max_iters=10**9, iters_per_epoch=10**9, logger=logger,
                    meta={}, input_dtype=builder.input_dtype(tr.ds_config),
                    device=builder.device(), timestamp="", cfg=cfg,
                    channels_last=tr.speed.channels_last)
    if model_name == "dbnet":
        data = {k: torch.from_numpy(v) for k, v in dbnet_batch(batch, size).items()}
    else:
        img, texts = crnn_batch(batch)
        data = {"img": torch.from_numpy(img),
                "img_metas": [{"text": t, "resize_shape": (32, 100, 1), "valid_ratio": 1.0}
                              for t in texts]}

    def step() -> None:
        runner.train_step(data)
        runner.iter += 1
        if runner.iter % 10 == 0:  # what the logger does at its interval
            runner.check_finite()
            interval_means(runner.log_buffer)
            runner.log_buffer.clear()
        if device == "cuda":
            torch.cuda.synchronize()

    step()
    first = float(np.mean([float(v) for v in runner.log_buffer["loss"]]))
    scaler = getattr(engine, "torch_autocast_z0_gradscaler", None)
    skipped = (scale_drops(scaler.get_scale) if scaler is not None
               else (lambda: engine.skipped_steps) if engine.fp16_enabled() else None)
    serve(step, first, t0, skipped)


# -- the driver --------------------------------------------------------------------------------
class Worker:
    def __init__(self, name: str, cmd: list[str], env: dict[str, str]):
        self.name = name
        # stderr to a file, not a pipe: DeepSpeed's start-up chatter would fill an unread pipe
        # and block the worker
        self.err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.times: list[list[float]] = []
        self.cpu: list[list[float]] = []
        self.faults: list[int] = []
        self.skipped = 0
        self.rss_mb = 0

    def expect(self, tag: str) -> dict:
        for line in self.proc.stdout:
            if line.startswith(tag + " "):
                return json.loads(line[len(tag) + 1:])
        code = self.proc.wait()
        self.err.seek(0)
        raise RuntimeError(f"worker {self.name} ended (exit {code}):\n{self.err.read()[-4000:]}")

    def run(self, steps: int) -> None:
        self.proc.stdin.write(f"run {steps}\n")
        self.proc.stdin.flush()
        out = self.expect("TIMES")
        self.times.append(out["times"])
        self.cpu.append(out["cpu"])
        self.faults += out["faults"]
        self.skipped += out.get("skipped", 0)
        self.rss_mb = out["rss_mb"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MALLOC_") and k != "OCR_DS_CPU_MALLOC"}
    # PYTHONPATH: the repository first, then what was there (the GPU check's /tmp/site)
    path = os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1", PYTHONPATH=path,
               **(extra or {}))
    # this venv's tools first: DeepSpeed JIT-builds its comm op with the first ninja on PATH,
    # and another ninja than the tests' rebuilds it (minutes on a busy machine)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def compare(model_name: str, settings: list[str], mmocr_settings: list[str], rounds: int,
            steps: int, quick: bool, ref_python: str, tmp: str, device: str = "cpu",
            ref_path: str | None = None) -> list[dict]:
    batch, size = (QUICK_SHAPES if quick else SHAPES)[model_name]
    weights = os.path.join(tmp, f"{model_name}_mmocr.pth")
    workers: dict[str, Worker] = {}
    ready: dict[str, dict] = {}
    failed: dict[str, str] = {}

    def started(name: str) -> None:
        """Wait for READY; a failing side other than the first MMOCR one is reported, not fatal."""
        try:
            ready[name] = workers[name].expect("READY")
        except RuntimeError as exc:
            if name == mmocr_settings[0]:
                raise
            failed[name] = str(exc).strip().splitlines()[-1][:200]
            print(f"  {model_name} {name}: FAILED: {failed[name]}", flush=True)

    try:
        for name in mmocr_settings:
            env, precision = MMOCR_SETTINGS[name]
            env = _env(env)
            if ref_path:
                env["PYTHONPATH"] = ref_path + os.pathsep + env["PYTHONPATH"]
            workers[name] = Worker(name, [ref_python, os.path.join(HERE, "peer_step_mmocr.py"),
                                          model_name, weights, str(batch), str(size), device,
                                          precision], env)
            started(name)   # the first one's weights are written by now
        for name in settings:
            workers[name] = Worker(name, [sys.executable, os.path.abspath(__file__), "--worker",
                                          model_name, name, weights, str(batch), str(size),
                                          device], _env())
        for name in settings:
            started(name)
        for r in range(rounds):
            order = list(workers) if r % 2 == 0 else list(reversed(workers))
            for name in order:
                if name in failed:
                    continue
                try:
                    workers[name].run(steps)
                except RuntimeError as exc:  # one setting failing must not end the comparison
                    if name == mmocr_settings[0]:
                        raise
                    failed[name] = str(exc).strip().splitlines()[-1][:200]
                    print(f"  {model_name} {name}: FAILED: {failed[name]}", flush=True)
            print(f"  {model_name} round {r + 1}/{rounds}: " + ", ".join(
                f"{n} {statistics.median(w.times[-1]) * 1000:.0f} ms"
                for n, w in workers.items() if n not in failed), flush=True)
    finally:
        for w in workers.values():
            w.close()
    rows = [{"model": model_name, "setting": name, "failed": why} for name, why in failed.items()]
    for name, w in workers.items():
        if name in failed:
            continue
        vs = ("mmocr_fp16" if name in MIXED and "mmocr_fp16" in workers
              and "mmocr_fp16" not in failed else mmocr_settings[0])
        base = workers[vs]
        per_round = [statistics.median(t) / statistics.median(b)
                     for t, b in zip(w.times, base.times)]
        cpu_round = [statistics.median(t) / statistics.median(b)
                     for t, b in zip(w.cpu, base.cpu)]
        rows.append({"model": model_name, "setting": name, "vs": vs, "device": device,
                     "batch": batch, "size": size,
                     "step_ms": statistics.median(statistics.median(t) for t in w.times) * 1000,
                     "cpu_ms": statistics.median(statistics.median(t) for t in w.cpu) * 1000,
                     "ratio": statistics.median(per_round), "ratios": per_round,
                     "cpu_ratio": statistics.median(cpu_round),
                     "faults_per_step": statistics.median(w.faults), "rss_mb": w.rss_mb,
                     "skipped": w.skipped, "timed_steps": sum(len(t) for t in w.times),
                     "first_loss": ready[name]["first_loss"], "setup_s": ready[name]["setup_s"]})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="DBNet at batch 2, 320x320, CRNN at batch 32; 2 rounds of 2 steps")
    p.add_argument("--models", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    p.add_argument("--settings", nargs="+", choices=list(SETTINGS),
                   help="ours (default: default best; with --device cuda: default best fp16 "
                        "fp16_autocast fp16_zero1 bf16)")
    p.add_argument("--mmocr-settings", nargs="+", choices=list(MMOCR_SETTINGS),
                   help="MMOCR sides; ratios are against the first, the mixed-precision ones "
                        "against mmocr_fp16 (default: mmocr; with --device cuda: mmocr mmocr_fp16)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--ref-python", help="MMOCR's side runs with this Python (default: the "
                   "reference venv's, built if needed)")
    p.add_argument("--ref-path", help="prepended to MMOCR's side's PYTHONPATH (where mmcv, mmdet "
                   "and mmocr were installed with pip --target)")
    p.add_argument("--rounds", type=int)
    p.add_argument("--steps", type=int, help="steps per worker per round")
    p.add_argument("--json", help="write the rows here")
    p.add_argument("--list", action="store_true", help="print the settings and exit")
    p.add_argument("--worker", nargs=6,
                   metavar=("MODEL", "SETTING", "WEIGHTS", "BATCH", "SIZE", "DEVICE"),
                   help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        model, setting, weights, batch, size, device = a.worker
        our_worker(model, setting, weights, int(batch), int(size), device)
        return 0
    if a.list:
        print(__doc__[__doc__.index("Settings"):])
        return 0
    cuda = a.device == "cuda"
    rounds = a.rounds or (2 if a.quick else 3)
    steps = a.steps or (2 if a.quick else 3)
    settings = a.settings or (["default", "best", "fp16", "fp16_autocast", "fp16_zero1", "bf16"]
                              if cuda
                              else ["default", "best"])
    mmocr_settings = a.mmocr_settings or (["mmocr", "mmocr_fp16"] if cuda else ["mmocr"])
    if not cuda and ({"fp16", "fp16_autocast", "fp16_zero1", "bf16_ds"} & set(settings)
                     or "mmocr_fp16" in mmocr_settings):
        p.error("fp16, fp16_autocast, fp16_zero1, bf16_ds and mmocr_fp16 need --device cuda")
    if a.ref_python:
        ref_python = a.ref_python
    else:
        sys.path.insert(0, os.path.join(ROOT, "tests", "parity"))
        from refenv import ensure_venv

        ref_python = str(ensure_venv() / "bin" / "python")
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in a.models:
            rows += compare(model, settings, mmocr_settings, rounds, steps, a.quick,
                            ref_python, tmp, a.device, a.ref_path)
    print(f"\npeer_step: {time.strftime('%Y-%m-%d %H:%M')}, {a.device}, load average {load:.1f} "
          f"at start, {os.getloadavg()[0]:.1f} at end; {rounds} rounds x {steps} steps, one "
          f"thread each")
    print(f"  {'model':<6} {'setting':<18} {'batch':>6} {'step ms':>8} {'/ MMOCR':>8} "
          f"{'CPU ms':>8} {'/ MMOCR':>8} {'faults/step':>11} {'maxrss MB':>9} {'first loss':>11}"
          f" {'skipped':>9}  vs")
    for r in rows:
        if "failed" in r:
            print(f"  {r['model']:<6} {r['setting']:<18} FAILED: {r['failed']}")
            continue
        shape = f"{r['batch']}" + (f"x{r['size']}" if r["size"] else "")
        ms = f"{r['step_ms']:8.1f}" if r["step_ms"] < 100 else f"{r['step_ms']:8.0f}"
        print(f"  {r['model']:<6} {r['setting']:<18} {shape:>6} {ms} "
              f"{r['ratio']:8.3f} {r['cpu_ms']:8.0f} {r['cpu_ratio']:8.3f} "
              f"{r['faults_per_step']:11.0f} {r['rss_mb']:9d} {r['first_loss']:11.5f} "
              f"{r['skipped']:>4d}/{r['timed_steps']:<4d}  {r['vs']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

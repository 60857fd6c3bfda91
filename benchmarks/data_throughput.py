"""Data throughput: images/s of the demo training pipelines per storage backend, and the share of
the iteration time spent waiting for data in real 2-rank training of the demo configs.

(a) pipelines: for CRNN (``configs/textrecog/crnn/crnn_synth_cpu.py``) and DBNet
    (``configs/textdet/dbnet/dbnet_r18_synth_cpu.py``), the TRAINING dataset with all its
    transforms, read from

      disk       the config as shipped (image files),
      lmdb       recognition: the ``train_lmdb`` that ``gen_recog_data`` writes beside the files;
                 detection: the images packed by ``python -m ocr_ds.tools.to_lmdb det`` (made
                 on first use into ``data/synth_det/imgs_lmdb``),
      memcached  ``file_client_args=dict(backend='memcached', servers=[...])`` (a read-through
                 cache; one pass fills it before the timing); a private ``memcached`` is started
                 on a free port unless ``--memcached HOST:PORT`` names one,

    measured as ``dataset[i]`` in this process and through the engine's DataLoader with the
    config's loader settings (``workers_per_gpu``, ``persistent_workers``, ``prefetch_factor``;
    ``--workers`` overrides). A backend that is missing is a "not available" row, not a crash.
(b) training: ``deepspeed --num_gpus 2 ocr_ds/train.py --config <demo>`` (OMP_NUM_THREADS=1, as
    ``make demo``), shortened to an iteration run without evaluation; the ``data_time`` and
    ``time`` of its ``*.log.json`` after the first logged interval (warm-up), as the share of
    the iteration time spent waiting for data. Goal (issue 7): at most 5% for both demos.

    python benchmarks/data_throughput.py [--quick] [--part pipelines|training|all]
        [--models crnn dbnet] [--backends disk lmdb memcached] [--workers 0 1 2]

Run it on an otherwise idle machine: the training part runs 2 ranks on the cores the data
workers need too.
"""
from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks._common import (TRAIN, failure, free_port, json_log, launch,  # noqa: E402
                                write_run_config)

DEMOS = {"crnn": "configs/textrecog/crnn/crnn_synth_cpu.py",
         "dbnet": "configs/textdet/dbnet/dbnet_r18_synth_cpu.py"}
GOAL = 0.05  # data_time / time


class Unavailable(Exception):
    """This backend cannot be measured here (one line: why, and what would make it work)."""


# -- datasets per backend ---------------------------------------------------------------------
def _inner(train: dict) -> dict:
    """The one dataset dict of ``data.train`` (the CRNN demo wraps it in a concat dataset)."""
    if train.get("type") in ("UniformConcatDataset", "ConcatDataset"):
        (inner,) = train["datasets"]
        return inner
    return train


def _with_file_client(spec: dict, file_client_args: dict) -> dict:
    """``spec`` whose image loading step reads through ``file_client_args``."""
    spec = copy.deepcopy(spec)
    inner = _inner(spec)
    step = inner["pipeline"][0]
    if step["type"] != "LoadImageFromFile":
        raise Unavailable(f"first pipeline step is {step['type']}, expected LoadImageFromFile")
    step["file_client_args"] = dict(file_client_args)
    return spec


def disk(cfg: Any, args: argparse.Namespace) -> dict:
    return copy.deepcopy(cfg.data.train)


def recog_lmdb(cfg: Any, args: argparse.Namespace) -> dict:
    """The ``train_lmdb`` gen_recog_data wrote (labels and images, MMOCR's layout)."""
    path = os.path.join(cfg.data_root, "train_lmdb")
    if not os.path.isdir(path):
        raise Unavailable(f"{path} missing (gen_recog_data without --no-lmdb writes it)")
    spec = _with_file_client(cfg.data.train, dict(backend="lmdb"))
    inner = _inner(spec)
    inner.update(ann_file=path, img_prefix=path)
    inner["loader"] = dict(inner["loader"], file_format="lmdb",
                           parser=dict(type="LineJsonParser", keys=["filename", "text"]))
    return spec


def det_lmdb(cfg: Any, args: argparse.Namespace) -> dict:
    """The scene images packed by ``ocr_ds.tools.to_lmdb det`` (annotations stay JSON)."""
    try:
        import ocr_ds.tools.to_lmdb  # noqa: F401
    except ImportError:
        raise Unavailable("no ocr_ds.tools.to_lmdb (the detection lmdb converter) in this "
                          "checkout") from None
    path = os.path.join(cfg.data_root, "imgs_lmdb")
    if not os.path.isdir(path):
        train_json = cfg.data.train["ann_file"]
        test_json = cfg.data.val["ann_file"]
        cmd = [sys.executable, "-m", "ocr_ds.tools.to_lmdb", "det", train_json, test_json, path,
               "--img-root", cfg.data.train["img_prefix"]]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Unavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-300:]}")
    return _with_file_client(cfg.data.train, dict(backend="lmdb", db_path=path))


def memcached(cfg: Any, args: argparse.Namespace) -> dict:
    """Images through a read-through memcached cache (filled by a first pass)."""
    from ocr_ds.fileio import BACKENDS

    if "memcached" not in BACKENDS:
        raise Unavailable("ocr_ds.fileio has no 'memcached' backend in this checkout")
    if not args.memcached:
        args.memcached = _start_memcached()
    return _with_file_client(cfg.data.train, dict(backend="memcached", servers=[args.memcached]))


BACKENDS: dict[str, dict[str, Callable[[Any, argparse.Namespace], dict]]] = {
    "crnn": {"disk": disk, "lmdb": recog_lmdb, "memcached": memcached},
    "dbnet": {"disk": disk, "lmdb": det_lmdb, "memcached": memcached},
}


# -- (a) pipelines -----------------------------------------------------------------------------
def load_config(model: str, logger: logging.Logger) -> Any:
    from ocr_ds.config import Config
    from ocr_ds.engine.synth import ensure_synth_data

    cfg = Config.fromfile(os.path.join(ROOT, DEMOS[model]))
    ensure_synth_data(cfg.get("synth_data"), logger)  # the demo's data, generated on first use
    return cfg


def images_per_s_getitem(dataset: Any, n: int) -> float:
    import numpy as np

    order = np.random.RandomState(0).permutation(len(dataset)).tolist()
    order = (order * (n // len(order) + 2))[: n + 1]
    dataset[order[0]]  # warm-up: lazy opens, first decode
    t = time.perf_counter()
    for i in order[1:]:
        dataset[i]
    return n / (time.perf_counter() - t)


def images_per_s_loader(dataset: Any, settings: dict, batches: int,
                        mp_start_method: str) -> tuple[float, float]:
    """(images/s after the first batch, seconds to the first batch) through the engine's loader."""
    import torch

    from ocr_ds.engine.data import build_loader

    loader = build_loader(dataset, settings, rank=0, world_size=1, seed=0,
                          device=torch.device("cpu"), mp_start_method=mp_start_method)
    batches = min(batches, len(loader) - 1)
    t0 = time.perf_counter()
    it = iter(loader)
    next(it)
    first = time.perf_counter() - t0
    t = time.perf_counter()
    images = 0
    for _ in range(batches):
        images += len(next(it)["img"])
    rate = images / (time.perf_counter() - t)
    del it
    return rate, first


def run_pipelines(args: argparse.Namespace, logger: logging.Logger) -> None:
    import cv2

    from ocr_ds.engine.data import loader_settings, process_settings
    from ocr_ds.engine.train import build_datasets

    cv2.setNumThreads(0)
    print("(a) training pipelines: images/s (dataset[i] in one process; DataLoader with W "
          "workers, after its first batch)")
    print(f"  {'model':6s} {'backend':10s} {'dataset[i]':>11s} {'W':>2s} {'loader':>9s} "
          f"{'1st batch':>9s}")
    for model in args.models:
        cfg = load_config(model, logger)
        proc = process_settings(cfg)
        base = loader_settings(cfg.data, "train")
        n = args.samples[model]
        for backend in args.backends:
            try:
                spec = BACKENDS[model][backend](cfg, args)
                dataset = build_datasets({"data": {"train": spec}}, validate=False)[0]
                if backend == "memcached":  # fill the cache with what both timings read
                    images_per_s_getitem(dataset, n)
                    for i in range(min(len(dataset), (args.batches[model] + 1)
                                       * base["samples_per_gpu"])):
                        dataset[i]
                rate = images_per_s_getitem(dataset, n)
            except Unavailable as exc:
                print(f"  {model:6s} {backend:10s} not available: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - one row per backend, the table goes on
                print(f"  {model:6s} {backend:10s} FAILED: {type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:200]}")
                continue
            for w in (args.workers if args.workers is not None else [base["workers_per_gpu"]]):
                # in index order: the memcached rows then read what was cached
                settings = dict(base, workers_per_gpu=w, shuffle=False)
                if w == 0:
                    settings.pop("prefetch_factor", None)
                lrate, first = images_per_s_loader(dataset, settings, args.batches[model],
                                                   proc["mp_start_method"])
                print(f"  {model:6s} {backend:10s} {rate:9.0f}/s {w:2d} {lrate:7.0f}/s "
                      f"{first:8.2f}s", flush=True)


# -- (b) training --------------------------------------------------------------------------------
def training_share(model: str, iters: int, interval: int, workers: int | None, ranks: int,
                   keep: bool) -> dict[str, float]:
    """Run the demo for ``iters`` iterations on ``ranks`` ranks; mean data_time and time."""
    work_dir = tempfile.mkdtemp(prefix=f"ocr_ds_data_{model}_")
    extra = [f"log_config = dict(interval={interval}, hooks=[dict(type='TextLoggerHook')])"]
    if workers is not None:
        extra.append(f"data = dict(workers_per_gpu={workers}, persistent_workers={workers > 0})")
    cfg = write_run_config(work_dir, os.path.join(ROOT, DEMOS[model]), iters, extra)
    t = time.perf_counter()
    proc = launch(TRAIN, ranks, ["--config", cfg, "--work-dir", work_dir, "--no-validate",
                                 "--seed", "0"], timeout=3600)
    wall = time.perf_counter() - t
    try:
        if proc.returncode != 0:
            raise failure(f"{model} training on {ranks} rank(s)", proc)
        records = json_log(work_dir)[1:]
        train = [r for r in records if r.get("mode") == "train"][1:]  # first interval: warm-up
        if not train:
            raise RuntimeError(f"no training records after the warm-up in {work_dir}")
        data_time = sum(r["data_time"] for r in train) / len(train)
        it_time = sum(r["time"] for r in train) / len(train)
        return {"data_time": data_time, "time": it_time, "share": data_time / it_time,
                "max_data_time": max(r["data_time"] for r in train), "wall": wall,
                "records": len(train)}
    finally:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"  (work dir kept: {work_dir})")


def run_training(args: argparse.Namespace, logger: logging.Logger) -> dict[str, float]:
    from ocr_ds.config import Config
    from ocr_ds.engine.data import loader_settings

    print(f"(b) real training, deepspeed --num_gpus {args.ranks} x OMP_NUM_THREADS=1, no "
          f"evaluation; means over the logged intervals after the first (warm-up)")
    print(f"  {'model':6s} {'workers':>7s} {'iters':>5s} {'data_time':>9s} {'time':>7s} "
          f"{'share':>6s} {'goal':>6s} {'worst':>7s} {'wall':>6s}")
    shares: dict[str, float] = {}
    for model in args.models:
        load_config(model, logger)  # generate the data before timing anything
        configured = loader_settings(Config.fromfile(os.path.join(ROOT, DEMOS[model])).data,
                                     "train")
        for w in (args.workers if args.workers is not None else [None]):
            label = f"{configured['workers_per_gpu']}*" if w is None else str(w)
            iters, interval = args.train_iters[model]
            try:
                r = training_share(model, iters, interval, w, args.ranks, args.keep)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next row
                print(f"  {model:6s} {label:>7s} FAILED: {exc}")
                continue
            shares[f"{model} (workers {label}): data_time / iteration time"] = r["share"]
            verdict = "ok" if r["share"] <= GOAL else "MISSED"
            print(f"  {model:6s} {label:>7s} {iters:5d} {r['data_time']:8.4f}s {r['time']:6.3f}s "
                  f"{r['share']:6.1%} {verdict:>6s} {r['max_data_time']:6.3f}s {r['wall']:5.0f}s",
                  flush=True)
    print(f"  (* = the config's own workers_per_gpu; goal: share <= {GOAL:.0%}; worst = the "
          "largest interval mean of data_time)")
    return shares


# -- main ----------------------------------------------------------------------------------------
_SERVERS: list[subprocess.Popen] = []  # memcached servers this script started


def _start_memcached() -> str:
    """Start a private memcached on a free port (stopped at exit); its ``host:port``."""
    exe = shutil.which("memcached")
    if exe is None:
        raise Unavailable("no memcached binary (apt-get install memcached) and no --memcached")
    port = free_port()
    cmd = [exe, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "1024", "-I", "2m"]
    if os.geteuid() == 0:
        cmd += ["-u", "nobody"]  # memcached refuses to run as root
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _SERVERS.append(proc)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.terminate()
    raise Unavailable(f"memcached did not start: {proc.communicate()[1].strip()[:200]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=["pipelines", "training", "all"], default="all")
    p.add_argument("--quick", action="store_true",
                   help="fewer samples and iterations (about 3 minutes instead of 10)")
    p.add_argument("--models", nargs="+", choices=sorted(DEMOS), default=sorted(DEMOS))
    p.add_argument("--backends", nargs="+", choices=["disk", "lmdb", "memcached"],
                   default=["disk", "lmdb", "memcached"])
    p.add_argument("--workers", type=int, nargs="+",
                   help="workers_per_gpu values to compare (default: each config's own)")
    p.add_argument("--ranks", type=int, default=2, help="training ranks (default 2, as make demo)")
    p.add_argument("--memcached", metavar="HOST:PORT",
                   help="a memcached server (default: start a private one on a free port)")
    p.add_argument("--keep", action="store_true", help="keep the training work dirs")
    p.add_argument("--json", metavar="FILE",
                   help="also write the training part's data_time shares and their goal as JSON "
                        "(what benchmarks/run_all.py reads)")
    args = p.parse_args()
    if args.quick:
        args.samples, args.batches = {"crnn": 2000, "dbnet": 60}, {"crnn": 30, "dbnet": 6}
        # (iterations, log interval): DBNet has 75 iterations an epoch on 2 ranks
        args.train_iters = {"crnn": (60, 10), "dbnet": (60, 10)}
    else:
        args.samples, args.batches = {"crnn": 10000, "dbnet": 300}, {"crnn": 150, "dbnet": 30}
        args.train_iters = {"crnn": (300, 20), "dbnet": (180, 15)}  # DBNet: past an epoch's end
    logging.basicConfig(level=logging.WARNING)
    logger = logging.getLogger("ocr_ds")
    try:
        if args.part in ("pipelines", "all"):
            run_pipelines(args, logger)
        if args.part in ("training", "all"):
            shares = run_training(args, logger)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump({"ratios": shares, "goals": {k: f"<= {GOAL}" for k in shares}}, f)
    finally:
        for proc in _SERVERS:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()

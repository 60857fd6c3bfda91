"""Data loaders as MMOCR builds them, with a sampler that can resume mid-epoch.

Loader settings follow MMOCR 0.x ``train_detector``: every ``data`` key except the datasets and
the ``*_dataloader`` dicts is a default for all loaders; ``train_dataloader`` /
``val_dataloader`` / ``test_dataloader`` override it; val/test default to ``shuffle=False,
drop_last=False`` (REFERENCE §2).

Worker processes as mmcv sets them up (``setup_multi_processes``): started with the config's
``mp_start_method`` (default 'fork'), seeded ``num_workers * rank + worker_id + seed``, OpenCV
kept to one thread in each, and the main process's OpenCV threads from ``opencv_num_threads``.
Memory is pinned only for a CUDA device, unless ``pin_memory`` is set.
"""
from __future__ import annotations

import functools
import logging
import math
import os
import random
import signal
from typing import Any, Iterator, Mapping, Sequence

import cv2
import numpy as np
import torch
import torch.multiprocessing as mp
from torch.utils.data import DataLoader, Sampler

from ocr_ds.datasets.collate import collate
from ocr_ds.errors import UserError, bad_value

_DATASET_KEYS = {"train", "val", "test", "train_dataloader", "val_dataloader", "test_dataloader"}
_LOADER_KEYS = {"samples_per_gpu", "workers_per_gpu", "shuffle", "drop_last", "persistent_workers",
                "pin_memory", "prefetch_factor"}


class DistributedSampler(Sampler[int]):
    """Shard indices over ranks; reshuffled per epoch from ``seed + epoch``.

    ``pad=True`` repeats the first indices so every rank gets ``ceil(N / world)`` samples (all
    ranks then run the same number of batches, which ZeRO-3 needs in evaluation too).
    ``set_epoch(epoch, skip)`` drops the first ``skip`` samples of this rank, so a run resumed
    mid-epoch continues with the samples it had not seen.
    """

    def __init__(self, length: int, num_replicas: int = 1, rank: int = 0, shuffle: bool = True,
                 seed: int = 0, pad: bool = True):
        self.length, self.num_replicas, self.rank = length, num_replicas, rank
        self.shuffle, self.seed, self.pad = shuffle, seed, pad
        self.epoch, self.skip = 0, 0
        self.num_samples = (math.ceil(length / num_replicas) if pad else length // num_replicas)

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def all_indices(self) -> list[int]:
        """Indices of every rank, before sharding (padded)."""
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            idx = torch.randperm(self.length, generator=g).tolist()
        else:
            idx = list(range(self.length))
        total = self.num_samples * self.num_replicas
        while len(idx) < total:  # pad (possibly more than once for tiny sets)
            idx += idx[: total - len(idx)]
        return idx[:total]

    def __iter__(self) -> Iterator[int]:
        return iter(self.all_indices()[self.rank::self.num_replicas][self.skip:])

    def __len__(self) -> int:
        return self.num_samples - self.skip


def loader_settings(data_cfg: Mapping, which: str) -> dict[str, Any]:
    """The merged, checked loader settings for ``which`` in ('train', 'val', 'test').

    ``pin_memory`` is left out unless set (``build_loader`` then pins only for a CUDA device).
    """
    base = {k: v for k, v in data_cfg.items() if k not in _DATASET_KEYS}
    own = dict(data_cfg.get(f"{which}_dataloader") or {})
    if which == "train":
        merged = {"shuffle": True, "drop_last": False, "persistent_workers": False, **base, **own}
    else:
        merged = {"persistent_workers": False, **base, "shuffle": False, "drop_last": False, **own}
        merged.setdefault("samples_per_gpu", 1)
    merged.setdefault("workers_per_gpu", 1)

    def where(key: str) -> str:  # the config key the value came from
        return f"data.{which}_dataloader.{key}" if key in own else f"data.{key}"

    unknown = set(merged) - _LOADER_KEYS
    if unknown:
        raise UserError(f"data: unknown loader setting(s) {sorted(unknown)}; "
                        f"expected some of {sorted(_LOADER_KEYS)}")
    for key, low in (("samples_per_gpu", 1), ("workers_per_gpu", 0), ("prefetch_factor", 1)):
        value = merged.get(key, low)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise bad_value(where(key), value,
                            "a positive integer" if low else "an integer >= 0")
    for key in ("shuffle", "drop_last", "persistent_workers", "pin_memory"):
        if key in merged and not isinstance(merged[key], bool):
            raise bad_value(where(key), merged[key], "True or False")
    if "prefetch_factor" in merged and merged["workers_per_gpu"] == 0:
        # torch refuses it too: batches are only prefetched by worker processes
        raise UserError(f"{where('prefetch_factor')}: needs workers_per_gpu > 0 (got "
                        f"prefetch_factor={merged['prefetch_factor']} with workers_per_gpu=0); "
                        "remove it or add workers")
    return merged


MP_START_METHODS = ("fork", "spawn", "forkserver")


def process_settings(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The checked MMOCR runtime keys ``mp_start_method`` (default 'fork', as mmcv),
    ``opencv_num_threads`` (default 0), ``cudnn_benchmark`` (default False) and
    ``find_unused_parameters`` (DDP's; accepted: DeepSpeed reduces every parameter's gradient,
    a zero one for a parameter the step did not use)."""
    for key in ("cudnn_benchmark", "find_unused_parameters"):
        if not isinstance(cfg.get(key, False), bool):
            raise bad_value(key, cfg.get(key), "True or False")
    method = cfg.get("mp_start_method", "fork")
    if method not in MP_START_METHODS:
        raise bad_value("mp_start_method", method, "'fork', 'spawn' or 'forkserver'")
    if method not in mp.get_all_start_methods():
        raise UserError(f"mp_start_method: {method!r} is not available on this platform "
                        f"(available: {', '.join(mp.get_all_start_methods())})")
    threads = cfg.get("opencv_num_threads", 0)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
        raise bad_value("opencv_num_threads", threads, "an integer >= 0 (0: no OpenCV threads)")
    return {"mp_start_method": method, "opencv_num_threads": threads,
            "cudnn_benchmark": cfg.get("cudnn_benchmark", False)}


def setup_multi_processes(settings: Mapping[str, Any], workers_per_gpu: int,
                          logger: logging.Logger) -> None:
    """mmcv's ``setup_multi_processes``: the start method of worker processes, OpenCV's threads in
    this process, and one OpenMP/MKL thread per process when several workers share the cores
    (only where the environment does not say otherwise; it reaches the worker processes)."""
    method = settings["mp_start_method"]
    current = mp.get_start_method(allow_none=True)
    if current is not None and current != method:
        logger.warning("multiprocessing start method %r differs from the one already set (%r); "
                       "it is set to %r (mp_start_method in the config)", method, current, method)
    mp.set_start_method(method, force=True)
    cv2.setNumThreads(settings["opencv_num_threads"])
    if settings["cudnn_benchmark"]:  # MMOCR's train.py/test.py
        torch.backends.cudnn.benchmark = True
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if var not in os.environ and workers_per_gpu > 1:
            os.environ[var] = "1"
            logger.warning("%s set to 1 for every process (%d data-loader workers per rank); "
                           "set it in the environment to change this", var, workers_per_gpu)


def worker_init_fn(worker_id: int, num_workers: int, rank: int, seed: int,
                   ignore_signals: Sequence[int] = ()) -> None:
    """Seed a data-loader worker as mmcv does: ``num_workers * rank + worker_id + seed`` for
    numpy, ``random`` and torch; keep OpenCV to this worker's own thread; ignore the rank's
    stop signals (sent to a whole process group they must not kill the worker before its rank
    has saved: :mod:`ocr_ds.engine.stop`)."""
    for sig in ignore_signals:
        signal.signal(sig, signal.SIG_IGN)
    worker_seed = num_workers * rank + worker_id + seed
    np.random.seed(worker_seed % 2**32)
    random.seed(worker_seed)
    torch.manual_seed(worker_seed)
    cv2.setNumThreads(0)  # workers must not fight over the cores with OpenCV threads


@functools.cache
def _kill_workers_at_exit() -> None:
    """At exit, kill the data-loader workers still alive (a rank leaving on an exception, whose
    traceback keeps the loader's iterator alive). multiprocessing's own exit handler terminates
    daemonic children with SIGTERM and waits for them, but these workers ignore the rank's stop
    signals (SIGTERM among them): the rank would wait forever. Registered after
    multiprocessing's handler, so it runs first."""
    import atexit

    def kill() -> None:
        # torch's SIGCHLD handler would raise "DataLoader worker ... is killed" at each one
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for child in mp.active_children():
            if child.daemon:
                child.kill()
                child.join(timeout=10)

    atexit.register(kill)


def build_loader(dataset, settings: Mapping[str, Any], *, rank: int, world_size: int, seed: int,
                 pad: bool = True, device: torch.device | None = None,
                 mp_start_method: str | None = None, ignore_signals: Sequence[int] = (),
                 worker_seed: int | None = None) -> DataLoader:
    """A DataLoader over ``dataset`` with our sampler; ``seed`` feeds shuffling and workers
    (``worker_seed``, where given, the workers: ``--diff-seed``'s rank's own seed, as MMOCR's
    workers get it while its sampler shuffles from rank 0's).

    Memory is pinned for a CUDA ``device`` unless ``settings['pin_memory']`` says otherwise;
    worker processes start with ``mp_start_method`` (default: the process-wide method).
    """
    sampler = DistributedSampler(len(dataset), world_size, rank, shuffle=settings["shuffle"],
                                 seed=seed, pad=pad)
    workers = settings["workers_per_gpu"]
    extra: dict[str, Any] = {}
    if workers > 0:
        # a persistent_workers=True left in a config run with workers_per_gpu=0 is ignored
        extra["persistent_workers"] = bool(settings.get("persistent_workers", False))
        extra["worker_init_fn"] = functools.partial(
            worker_init_fn, num_workers=workers, rank=rank,
            seed=seed if worker_seed is None else worker_seed,
            ignore_signals=tuple(ignore_signals))
        if mp_start_method is not None:
            extra["multiprocessing_context"] = mp_start_method
        if ignore_signals:
            _kill_workers_at_exit()
        if "prefetch_factor" in settings:
            extra["prefetch_factor"] = settings["prefetch_factor"]
    if device is None:
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pin = settings.get("pin_memory")
    return DataLoader(
        dataset,
        batch_size=settings["samples_per_gpu"],
        sampler=sampler,
        num_workers=workers,
        collate_fn=getattr(dataset, "collate_fn", None) or collate,
        drop_last=bool(settings["drop_last"]),
        pin_memory=device.type == "cuda" if pin is None else pin,
        **extra,
    )

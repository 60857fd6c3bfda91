"""Data loaders as MMOCR builds them, with a sampler that can resume mid-epoch.

Loader settings follow MMOCR 0.x ``train_detector``: every ``data`` key except the datasets and
the ``*_dataloader`` dicts is a default for all loaders; ``train_dataloader`` /
``val_dataloader`` / ``test_dataloader`` override it; val/test default to ``shuffle=False,
drop_last=False`` (REFERENCE §2).
"""
from __future__ import annotations

import math
import random
from typing import Any, Iterator, Mapping

import numpy as np
import torch
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
    """The merged loader settings for ``which`` in ('train', 'val', 'test')."""
    base = {k: v for k, v in data_cfg.items() if k not in _DATASET_KEYS}
    if which == "train":
        merged = {"shuffle": True, "drop_last": False, "persistent_workers": False, **base,
                  **dict(data_cfg.get("train_dataloader") or {})}
    else:
        merged = {"persistent_workers": False, **base, "shuffle": False, "drop_last": False,
                  **dict(data_cfg.get(f"{which}_dataloader") or {})}
        merged.setdefault("samples_per_gpu", 1)
    merged.setdefault("workers_per_gpu", 1)
    for key in ("samples_per_gpu",):
        if not isinstance(merged.get(key), int) or isinstance(merged[key], bool) or merged[key] < 1:
            raise bad_value(f"data.{key}" if which == "train" else f"data.{which}_dataloader.{key}",
                            merged.get(key), "a positive integer")
    if not isinstance(merged["workers_per_gpu"], int) or merged["workers_per_gpu"] < 0:
        raise bad_value("data.workers_per_gpu", merged["workers_per_gpu"], "an integer >= 0")
    unknown = set(merged) - _LOADER_KEYS
    if unknown:
        raise UserError(f"data: unknown loader setting(s) {sorted(unknown)}; "
                        f"expected some of {sorted(_LOADER_KEYS)}")
    return merged


def _worker_init(base_seed: int):
    def init(worker_id: int) -> None:
        # mmcv: seed = num_workers * rank + worker_id + seed; we fold rank into base_seed
        seed = base_seed + worker_id
        np.random.seed(seed % 2**32)
        random.seed(seed)
        torch.manual_seed(seed)
        try:
            import cv2
            cv2.setNumThreads(0)  # workers must not fight over the cores with OpenCV threads
        except ImportError:
            pass
    return init


def build_loader(dataset, settings: Mapping[str, Any], *, rank: int, world_size: int, seed: int,
                 pad: bool = True) -> DataLoader:
    """A DataLoader over ``dataset`` with our sampler; ``seed`` feeds shuffling and workers."""
    sampler = DistributedSampler(len(dataset), world_size, rank, shuffle=settings["shuffle"],
                                 seed=seed, pad=pad)
    workers = settings["workers_per_gpu"]
    extra: dict[str, Any] = {}
    if workers > 0:
        extra["persistent_workers"] = bool(settings.get("persistent_workers", False))
        if "prefetch_factor" in settings:
            extra["prefetch_factor"] = settings["prefetch_factor"]
    return DataLoader(
        dataset,
        batch_size=settings["samples_per_gpu"],
        sampler=sampler,
        num_workers=workers,
        collate_fn=getattr(dataset, "collate_fn", None) or collate,
        drop_last=bool(settings["drop_last"]),
        pin_memory=bool(settings.get("pin_memory", torch.cuda.is_available())),
        worker_init_fn=_worker_init(workers * rank + seed),
        **extra,
    )

"""Data checks run before the work dir is created, so bad data leaves nothing behind.

Building a dataset already reads its annotation file (a missing, empty or unparsable file is an
error then). What building does not show is a data set whose images cannot be read: an
``img_prefix`` directory that does not exist, or a set where every image is missing or
undecodable (a training dataset skips bad samples, so it would only fail in the first epoch,
with the work dir, log and DeepSpeed engine already made). :func:`check_datasets` finds both:
it checks every member's ``img_prefix`` and loads the first usable sample of every training
member, then restores the RNG states and skip counters the probe touched, so training draws
exactly what it would have drawn without it, and closes the lmdb environments it opened (they
must not cross the fork into the loader workers).
"""
from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ocr_ds.errors import UserError


def leaves(dataset: Any) -> Iterator[Any]:
    """The member datasets of (nested) ``ConcatDataset``s, or ``dataset`` itself."""
    members = getattr(dataset, "datasets", None)
    if isinstance(members, (list, tuple)):
        for member in members:
            yield from leaves(member)
    else:
        yield dataset


def _disk_loader(dataset: Any) -> bool:
    """Whether the dataset's first pipeline step reads image files from the local disk."""
    pipeline = getattr(dataset, "pipeline", None)
    steps = getattr(pipeline, "transforms", None) or []
    args = getattr(steps[0], "file_client_args", None) if steps else None
    return isinstance(args, dict) and args.get("backend", "disk") == "disk"


def check_image_dirs(dataset: Any, key: str) -> None:
    for i, member in enumerate(leaves(dataset)):
        prefix = getattr(member, "img_prefix", "") or ""
        if prefix and _disk_loader(member) and not os.path.isdir(prefix):
            where = key if member is dataset else f"{key} dataset {i}"
            raise UserError(f"{where}: img_prefix {prefix!r} is not a directory; expected the "
                            f"directory the image paths of {getattr(member, 'ann_file', '?')} "
                            "are relative to")


def probe_first_samples(dataset: Any) -> None:
    """Load one sample of every member (a member skips bad samples up to the first good one);
    a member without a single usable sample raises its one-line :class:`UserError`."""
    from ocr_ds import fileio

    states = (random.getstate(), np.random.get_state(), torch.get_rng_state())
    open_before = fileio.open_lmdb_environments()
    try:
        for member in leaves(dataset):
            if len(member):
                member[0]
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
        for path in fileio.open_lmdb_environments() - open_before:  # loader workers open their own
            fileio.close_lmdb_environment(path)
        for member in leaves(dataset):  # training counts and warns afresh, into the log file
            for name in ("skipped", "_skipped"):
                counter = getattr(member, name, None)
                if counter is not None and hasattr(counter, "counts"):
                    counter.counts = Counter()


def check_datasets(train_set: Any, val_set: Any | None, val_loss_set: Any | None = None) -> None:
    """``val_loss_set``: the workflow's val phase data (``data.val`` through the training
    pipeline), probed as training data."""
    check_image_dirs(train_set, "data.train")
    if val_set is not None:
        check_image_dirs(val_set, "data.val")
    probe_first_samples(train_set)
    if val_loss_set is not None:
        check_image_dirs(val_loss_set, "data.val")
        probe_first_samples(val_loss_set)

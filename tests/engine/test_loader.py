"""Loader and worker-process settings: one-line errors, mmcv's worker seeds, spawn, pin_memory,
and a 2-rank run whose workers keep the data order through a mid-epoch resume."""
from __future__ import annotations

import os
import random
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from torch.utils.data import Dataset

import helpers
from ocr_ds.engine.data import build_loader, loader_settings, process_settings
from ocr_ds.errors import UserError


class Draws(Dataset):
    """Each sample: the worker that made it and one draw of numpy, ``random`` and torch."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = torch.utils.data.get_worker_info()
        return {"worker": info.id, "np": int(np.random.randint(2**31)),
                "py": random.getrandbits(31), "torch": int(torch.randint(2**31, (1,))),
                "cv2_threads": cv2.getNumThreads()}


def draws(rank: int, seed: int, method: str = "fork", **kwargs) -> dict[int, tuple]:
    """First draw of each of 2 workers of ``rank`` (world of 2)."""
    settings = loader_settings(dict(samples_per_gpu=1, workers_per_gpu=2, shuffle=False), "train")
    loader = build_loader(Draws(), settings, rank=rank, world_size=2, seed=seed,
                          mp_start_method=method, **kwargs)
    out = {}
    for batch in loader:
        w = int(batch["worker"][0])
        out.setdefault(w, (int(batch["np"][0]), int(batch["py"][0]), int(batch["torch"][0]),
                           int(batch["cv2_threads"][0])))
    return out


def expected(worker_seed: int) -> tuple[int, int, int]:
    np_state = np.random.RandomState(worker_seed)
    return (int(np_state.randint(2**31)), random.Random(worker_seed).getrandbits(31),
            int(torch.randint(2**31, (1,), generator=torch.Generator().manual_seed(worker_seed))))


def test_worker_seeds_follow_mmcv_formula():
    seed = 11
    rank0, rank1 = draws(0, seed), draws(1, seed)
    # worker seed = num_workers * rank + worker_id + seed (REFERENCE §1)
    assert {w: v[:3] for w, v in rank0.items()} == {0: expected(11), 1: expected(12)}
    assert {w: v[:3] for w, v in rank1.items()} == {0: expected(13), 1: expected(14)}
    assert rank0[0][:3] != rank0[1][:3]  # two workers, different streams
    assert draws(0, seed) == rank0  # same seed, same streams
    assert draws(0, seed + 100)[0][:3] != rank0[0][:3]


def test_diff_seed_workers_seed_from_the_ranks_seed_the_sampler_from_the_shared_one():
    """--diff-seed (MMOCR's): rank R's workers get num_workers * R + worker + (seed + R), as
    mmdet's build_dataloader seeds them from the rank's own seed; the shuffle stays rank 0's."""
    rank1 = draws(1, 11, worker_seed=12)
    assert {w: v[:3] for w, v in rank1.items()} == {0: expected(14), 1: expected(15)}
    settings = loader_settings(dict(samples_per_gpu=1, workers_per_gpu=0, shuffle=True), "train")
    orders = [list(build_loader(Draws(), settings, rank=1, world_size=2, seed=11,
                                **extra).sampler) for extra in ({}, {"worker_seed": 12})]
    assert orders[0] == orders[1]


def test_spawn_workers_get_the_same_seeds_and_no_opencv_threads():
    cv2_before = cv2.getNumThreads()
    cv2.setNumThreads(0)
    no_threads = cv2.getNumThreads()
    cv2.setNumThreads(cv2_before)
    spawned = draws(1, 5, method="spawn")  # needs a picklable worker_init_fn and dataset
    assert {w: v[:3] for w, v in spawned.items()} == {0: expected(7), 1: expected(8)}
    assert all(v[3] == no_threads for v in spawned.values())  # spawn starts OpenCV afresh


def test_pin_memory_only_for_cuda_unless_set():
    ds = Draws()

    def pinned(device: str, **cfg) -> bool:
        settings = loader_settings(dict(samples_per_gpu=2, workers_per_gpu=0, **cfg), "train")
        return build_loader(ds, settings, rank=0, world_size=1, seed=0,
                            device=torch.device(device)).pin_memory

    assert not pinned("cpu") and pinned("cuda")
    assert not pinned("cuda", pin_memory=False) and pinned("cpu", pin_memory=True)


@pytest.mark.parametrize("data, which, message", [
    (dict(workers_per_gpu=0, prefetch_factor=4), "train",
     "data.prefetch_factor: needs workers_per_gpu > 0 (got prefetch_factor=4 with "
     "workers_per_gpu=0); remove it or add workers"),
    (dict(workers_per_gpu=2, val_dataloader=dict(workers_per_gpu=0, prefetch_factor=2)), "val",
     "data.val_dataloader.prefetch_factor: needs workers_per_gpu > 0"),
    (dict(workers_per_gpu=2, prefetch_factor=0), "train",
     "data.prefetch_factor: expected a positive integer (got 0)"),
    (dict(workers_per_gpu=-1), "train", "data.workers_per_gpu: expected an integer >= 0 (got -1)"),
    (dict(workers_per_gpu=True), "train", "data.workers_per_gpu: expected an integer >= 0 (got True)"),
    (dict(train_dataloader=dict(persistent_workers="yes")), "train",
     "data.train_dataloader.persistent_workers: expected True or False (got 'yes')"),
    (dict(pin_memory=1), "val", "data.pin_memory: expected True or False (got 1)"),
])
def test_bad_loader_settings_are_one_line(data, which, message):
    with pytest.raises(UserError) as err:
        loader_settings(dict(samples_per_gpu=2, **data), which)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_persistent_workers_without_workers_is_ignored():
    settings = loader_settings(dict(samples_per_gpu=2, workers_per_gpu=0, persistent_workers=True),
                               "train")
    loader = build_loader(Draws(), settings, rank=0, world_size=1, seed=0)
    assert loader.num_workers == 0 and not loader.persistent_workers


def test_process_settings_defaults_and_errors():
    assert process_settings({}) == {"mp_start_method": "fork", "opencv_num_threads": 0,
                                    "cudnn_benchmark": False}
    assert process_settings(dict(mp_start_method="spawn", opencv_num_threads=2,
                                 cudnn_benchmark=True, find_unused_parameters=True)) == {
        "mp_start_method": "spawn", "opencv_num_threads": 2, "cudnn_benchmark": True}
    with pytest.raises(UserError, match=r"^find_unused_parameters: expected True or False "
                                        r"\(got 1\)$"):
        process_settings(dict(find_unused_parameters=1))
    with pytest.raises(UserError, match=r"^mp_start_method: expected 'fork', 'spawn' or "
                                        r"'forkserver' \(got 'thread'\)$"):
        process_settings(dict(mp_start_method="thread"))
    with pytest.raises(UserError, match=r"^opencv_num_threads: expected an integer >= 0"):
        process_settings(dict(opencv_num_threads=-1))


def test_setup_multi_processes_applies_the_config():
    code = (
        "import logging, os, cv2, multiprocessing as mp\n"
        "from ocr_ds.engine.data import setup_multi_processes, process_settings\n"
        "os.environ.pop('OMP_NUM_THREADS', None); os.environ['MKL_NUM_THREADS'] = '3'\n"
        "mp.set_start_method('forkserver')\n"
        "setup_multi_processes(process_settings(dict(mp_start_method='spawn', "
        "opencv_num_threads=1)), 2, logging.getLogger('t'))\n"
        "print(mp.get_start_method(), cv2.getNumThreads(), os.environ['OMP_NUM_THREADS'], "
        "os.environ['MKL_NUM_THREADS'])\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=helpers.ROOT, capture_output=True,
                          text=True, env=dict(helpers.env(), PYTHONPATH=helpers.ROOT), timeout=120)
    assert proc.returncode == 0, proc.stderr
    # start method forced (with a warning), OpenCV threads set, OMP set (unset before), MKL kept
    assert proc.stdout.split() == ["spawn", "1", "1", "3"]
    assert "differs from the one already set ('forkserver')" in proc.stderr


def test_bad_mp_start_method_stops_train_before_the_work_dir(tmp_path):
    wd = str(tmp_path / "wd")
    proc = helpers.train(["--work-dir", wd, "--cfg-options", "mp_start_method=threads"],
                         check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: mp_start_method: expected 'fork', 'spawn' or 'forkserver' (got 'threads')"]
    assert not os.path.exists(wd)


WORKER_ITERS = ["--seed", "3", "--deterministic", "--cfg-options", "runner.type=IterBasedRunner",
                "runner.max_iters=10", "total_epochs=None", "checkpoint_config.by_epoch=False",
                "checkpoint_config.interval=8", "evaluation.by_epoch=False",
                "evaluation.interval=10", "log_config.interval=5"]
WORKERS = ["data.workers_per_gpu=2", "data.persistent_workers=True", "data.prefetch_factor=2"]


@pytest.mark.slow
def test_two_ranks_with_persistent_workers_resume_with_the_same_data(tmp_path):
    """48 samples over 2 ranks in batches of 4: 6 iterations an epoch; iter_8 is mid-epoch 2."""
    a, b, c = (str(tmp_path / n) for n in "abc")
    helpers.train(["--work-dir", a, *WORKER_ITERS, *WORKERS], ranks=2)
    assert "data_time" in helpers.json_log(a)[1]
    helpers.train(["--work-dir", b, "--resume-from", os.path.join(a, "iter_8"), *WORKER_ITERS,
                   *WORKERS], ranks=2)
    assert "resumed from" in helpers.text_log(b)
    helpers.train(["--work-dir", c, *WORKER_ITERS, "data.workers_per_gpu=0"], ranks=2)
    full, resumed, no_workers = (helpers.weights(os.path.join(d, "iter_10")) for d in (a, b, c))
    for k in full:  # workers change neither the order nor the batches, resumed or not
        assert torch.equal(full[k], resumed[k]) and torch.equal(full[k], no_workers[k]), k

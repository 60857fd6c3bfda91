"""Engine pieces that need no process group: sampler, loader settings, log format, hook order."""
from __future__ import annotations

import re

import pytest
import torch

from ocr_ds.engine.data import DistributedSampler, loader_settings
from ocr_ds.engine.hooks.build import build_hooks
from ocr_ds.engine.hooks.writers import format_record
from ocr_ds.engine.runner import parse_losses
from ocr_ds.errors import UserError

# mmcv's TextLoggerHook line (REFERENCE §4)
TRAIN_LINE = re.compile(
    r"^Epoch \[\d+\]\[\d+/\d+\]\tlr: \d\.\d{3}e[+-]\d{2}, eta: \d+:\d{2}:\d{2}, "
    r"time: \d+\.\d{3}, data_time: \d+\.\d{3}, memory: \d+(, [\w.\-]+: -?\d+\.\d{4})+$")
VAL_LINE = re.compile(r"^Epoch\(val\) \[\d+\]\[\d+\]\t([\w.\-:]+: -?\d+\.\d{4}(, )?)+$")


def test_sampler_shards_pads_and_skips():
    s0 = DistributedSampler(13, num_replicas=2, rank=0, shuffle=False)
    s1 = DistributedSampler(13, num_replicas=2, rank=1, shuffle=False)
    assert list(s0) == [0, 2, 4, 6, 8, 10, 12]
    assert list(s1) == [1, 3, 5, 7, 9, 11, 0]  # padded with the first index: equal batch counts
    s0.set_epoch(0, skip=3)
    assert list(s0) == [6, 8, 10, 12] and len(s0) == 4


def test_sampler_reshuffles_per_epoch_and_is_seeded():
    a = DistributedSampler(50, 2, 0, shuffle=True, seed=7)
    b = DistributedSampler(50, 2, 0, shuffle=True, seed=7)
    first = list(a)
    assert first == list(b)
    a.set_epoch(1)
    assert list(a) != first
    ranks = [DistributedSampler(50, 2, r, shuffle=True, seed=7) for r in (0, 1)]
    assert sorted(list(ranks[0]) + list(ranks[1])) == list(range(50))


def test_loader_settings_follow_mmocr_precedence():
    data = dict(samples_per_gpu=8, workers_per_gpu=3, train=dict(), val=dict(),
                train_dataloader=dict(samples_per_gpu=4), val_dataloader=dict(samples_per_gpu=16))
    train = loader_settings(data, "train")
    assert (train["samples_per_gpu"], train["workers_per_gpu"], train["shuffle"]) == (4, 3, True)
    val = loader_settings(data, "val")
    assert (val["samples_per_gpu"], val["shuffle"], val["drop_last"]) == (16, False, False)
    with pytest.raises(UserError, match=r"data.samples_per_gpu: expected a positive integer \(got 0\)"):
        loader_settings(dict(samples_per_gpu=0), "train")
    with pytest.raises(UserError, match="unknown loader setting"):
        loader_settings(dict(samples_per_gpu=2, shufle=True), "train")


def test_text_log_lines_match_mmcv_format():
    rec = dict(mode="train", epoch=2, iter=10, lr=0.00647, memory=312, eta="0:01:02",
               data_time=0.0123, loss_ctc=1.23456, loss=1.23456, time=0.25, grad_norm=3.5)
    line = format_record(rec, iters_per_epoch=50, max_iters=100, by_epoch=True)
    assert line == ("Epoch [2][10/50]\tlr: 6.470e-03, eta: 0:01:02, time: 0.250, data_time: 0.012, "
                    "memory: 312, loss_ctc: 1.2346, loss: 1.2346, grad_norm: 3.5000")
    assert TRAIN_LINE.match(line)
    val = format_record(dict(mode="val", epoch=2, iter=50, word_acc=0.91), 50, 100, True)
    assert val == "Epoch(val) [2][50]\tword_acc: 0.9100" and VAL_LINE.match(val)
    it = format_record(dict(rec, iter=30), 50, 100, by_epoch=False)
    assert it.startswith("Iter [30/100]\tlr: 6.470e-03, ")


def test_parse_losses_sums_loss_keys_only():
    loss, logs = parse_losses({"loss_a": torch.tensor([1.0, 3.0]), "loss_b": [torch.tensor(1.0)],
                               "acc": torch.tensor(0.5)})
    assert float(loss) == 3.0 and float(logs["loss"]) == 3.0 and float(logs["acc"]) == 0.5


def test_hook_order_and_custom_priorities():
    cfg = dict(checkpoint_config=dict(interval=1), evaluation=dict(interval=1),
               data=dict(val=dict(type="ToyDataset")),
               log_config=dict(interval=5, hooks=[dict(type="TextLoggerHook")]),
               custom_hooks=[dict(type="EmptyCacheHook", priority="HIGHEST"),
                             dict(type="EmptyCacheHook")])
    names = [type(h).__name__ for h in build_hooks(cfg, schedule=None, runner_by_epoch=True,
                                                    validate=True)]
    assert names == ["EmptyCacheHook", "LrUpdaterHook", "CheckpointHook", "EmptyCacheHook",
                     "IterTimerHook", "EvalHook", "LoggerHook"]
    with pytest.raises(UserError, match=r"custom_hooks.0.type: unknown 'Nope'"):
        build_hooks(dict(custom_hooks=[dict(type="Nope")]), schedule=None, runner_by_epoch=True,
                    validate=False)
    with pytest.raises(UserError, match=r"log_config.hooks.0.type: unknown 'NeptuneLoggerHook'"):
        build_hooks(dict(log_config=dict(hooks=[dict(type="NeptuneLoggerHook")])), schedule=None,
                    runner_by_epoch=True, validate=False)


def test_free_port_never_hands_one_process_the_same_port_twice():
    from concurrent.futures import ThreadPoolExecutor

    from ocr_ds.engine.dist import free_port

    with ThreadPoolExecutor(4) as pool:   # as jobs started together from threads ask
        ports = list(pool.map(lambda _: free_port(), range(200)))
    assert len(set(ports)) == 200 and all(1024 <= p < 65536 for p in ports)


def test_free_port_lies_outside_the_ephemeral_range(monkeypatch, tmp_path):
    """Ports the kernel hands to others' bind(0) and connections are not picked (one of them
    took a 2-rank test's master port between the pick and the bind: EADDRINUSE); without a
    known range the OS picks."""
    from ocr_ds.engine import dist

    (tmp_path / "range").write_text("32768\t60999\n")
    monkeypatch.setattr(dist, "EPHEMERAL_RANGE_FILE", str(tmp_path / "range"))
    ports = [dist.free_port() for _ in range(50)]
    assert all(10000 <= p < 32768 for p in ports) and len(set(ports)) == 50
    (tmp_path / "range").write_text("1024 65000\n")     # too few left outside: the OS picks
    assert dist._unassigned_ports() is None and dist.free_port() >= 1024
    monkeypatch.setattr(dist, "EPHEMERAL_RANGE_FILE", str(tmp_path / "absent"))
    assert dist._unassigned_ports() is None and dist.free_port() >= 1024


def test_collectives_put_their_tensors_where_the_backend_reduces(monkeypatch):
    """NCCL (GPU ranks) all-reduces CUDA tensors only: the logger's average and the loop's
    checks must not hand it host tensors (on a GPU every train.py run failed at its first
    logging iteration with "No backend type associated with device type cpu")."""
    from ocr_ds.engine import dist

    assert dist.collective_device() == torch.device("cpu")          # no process group
    monkeypatch.setattr(dist, "is_dist", lambda: True)
    monkeypatch.setattr(dist.tdist, "get_backend", lambda *a: "nccl")
    monkeypatch.setattr(dist.torch.cuda, "current_device", lambda: 3)
    assert dist.collective_device() == torch.device("cuda", 3)
    monkeypatch.setattr(dist.tdist, "get_backend", lambda *a: "gloo")
    assert dist.collective_device() == torch.device("cpu")

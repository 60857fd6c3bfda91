"""``custom_hooks=[dict(type='SyncBuffersHook')]`` (mmcv's) on 2 real ranks: after each epoch
every rank holds the mean over the ranks of its floating-point buffers (the toy model's
BatchNorm running statistics, which drift apart with each rank's batches); integer counters
stay as they are (the same on every rank)."""
from __future__ import annotations

import os

import pytest
import torch

import helpers

PROBE = os.path.join(os.path.dirname(__file__), "buffers_probe.py")


@pytest.mark.slow
def test_sync_buffers_hook_averages_buffers_over_ranks(tmp_path):
    wd = str(tmp_path / "wd")
    cfg = tmp_path / "cfg.py"
    cfg.write_text(f"_base_ = [{helpers.TOY!r}]\ncustom_hooks = [dict(type='SyncBuffersHook')]\n")
    helpers.train(["--work-dir", wd, "--seed", "0"], ranks=2, config=str(cfg), script=PROBE)
    ranks = [torch.load(os.path.join(wd, f"buffers_rank{r}.pt"), weights_only=False)
             for r in (0, 1)]
    assert len(ranks[0]) == len(ranks[1]) == 3                 # after each of the 3 epochs
    for (before0, after0), (before1, after1) in zip(*ranks):
        mean = before0["net.2.running_mean"]
        assert not torch.equal(mean, before1["net.2.running_mean"])  # the ranks drifted apart
        for name in ("net.2.running_mean", "net.2.running_var"):
            expected = (before0[name].double() + before1[name].double()) / 2
            assert torch.allclose(after0[name].double(), expected, atol=1e-6)
            assert torch.equal(after0[name], after1[name])
        counter = "net.2.num_batches_tracked"
        assert after0[counter] == before0[counter] == before1[counter]
    # the checkpoint of the last epoch is saved before the hook (mmcv's order: checkpoint,
    # then custom hooks of the same priority) and holds rank 0's statistics of that moment
    saved = helpers.weights(os.path.join(wd, "epoch_3"))
    assert torch.equal(saved["net.2.running_mean"], ranks[0][-1][0]["net.2.running_mean"])

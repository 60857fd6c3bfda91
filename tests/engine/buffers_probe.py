"""``ocr_ds/train.py`` with each rank's buffers recorded around every buffer all-reduce
(SyncBuffersHook, test_sync_buffers): run in train.py's place with its arguments; writes
``<work dir>/buffers_rank<R>.pt``: ``[(before, after)]`` state of the model's buffers per call."""
from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

calls: list = []


def install() -> None:
    from ocr_ds.engine import dist

    original = dist.all_reduce_buffers_mean

    def recorded(model):
        before = {k: v.clone() for k, v in model.named_buffers()}
        n = original(model)
        calls.append((before, {k: v.clone() for k, v in model.named_buffers()}))
        return n

    dist.all_reduce_buffers_mean = recorded


def dump(work_dir: str) -> None:
    import torch

    # the process group is gone at exit: the launcher's RANK names the rank
    torch.save(calls, os.path.join(work_dir, f"buffers_rank{os.environ['RANK']}.pt"))


if __name__ == "__main__":
    import helpers

    helpers.train_with_probe(install, dump)

"""``ocr_ds/train.py`` with every host synchronisation and collective counted (test_step_syncs).

Run as the training script (``deepspeed --num_gpus 2 tests/engine/sync_probe.py --config ...``).
Before training it wraps the calls that make the host wait for the device (``Tensor.item``,
``tolist``, ``cpu``, ``numpy``, ``float()``/``int()``/``bool()``/``__index__`` of a tensor)
and every ``torch.distributed`` collective, and files each call under the training iteration it
happened in (``Runner.call('before_train_iter')`` opens one; a ``workflow`` val phase's batch
``i`` after ``E`` training epochs is filed under ``-(1000 E + i + 1)``) and its caller: the first frame
outside torch and this file, ``deepspeed`` when that frame is DeepSpeed's, else ``ours``
(ocr_ds, the model). Each rank writes ``{iteration: {"ours": [...], "deepspeed": [...]}}``
(entries ``"<what> <file>:<line>"``) and what the rank's CPU malloc set-up was
(:mod:`ocr_ds.engine.allocator`) to ``<work dir>/syncs_rank<RANK>.json`` at exit.

On CPU ranks none of these calls waits for anything; on a GPU each would stall the queue of
kernels, so the count on the CPU is what a GPU run would pay.
"""
from __future__ import annotations

import json
import os
import sys
from collections import defaultdict

import torch
import torch.distributed as tdist

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

TENSOR_SYNCS = ("item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__")
COLLECTIVES = ("all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce",
               "reduce_scatter", "reduce_scatter_tensor", "barrier", "gather", "scatter",
               "all_to_all", "all_to_all_single", "broadcast_object_list", "all_gather_object",
               "gather_object", "send", "recv", "isend", "irecv")
TORCH_DIR = os.path.dirname(torch.__file__)
records: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"ours": [], "deepspeed": []})
state = {"iter": 0, "depth": 0}


def caller() -> tuple[str, str]:
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith(TORCH_DIR)
                                 or frame.f_code.co_filename == __file__):
        frame = frame.f_back
    if frame is None:
        return "ours", "?"
    path = frame.f_code.co_filename
    who = "deepspeed" if f"{os.sep}deepspeed{os.sep}" in path else "ours"
    return who, f"{os.path.relpath(path, ROOT) if path.startswith(ROOT) else path}:{frame.f_lineno}"


def counted(what: str, fn):
    def wrapper(*args, **kwargs):
        if state["depth"] == 0:  # only the outermost call: item() inside tolist() is one sync
            who, where = caller()
            records[state["iter"]][who].append(f"{what} {where}")
        state["depth"] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            state["depth"] -= 1
    wrapper.__name__ = getattr(fn, "__name__", what)
    return wrapper


def install() -> None:
    for name in TENSOR_SYNCS:
        setattr(torch.Tensor, name, counted(f"Tensor.{name}", getattr(torch.Tensor, name)))
    for name in COLLECTIVES:
        if hasattr(tdist, name):
            setattr(tdist, name, counted(f"dist.{name}", getattr(tdist, name)))

    from ocr_ds.engine.runner import Runner

    original_call = Runner.call

    def call(self, stage: str) -> None:
        if stage == "before_train_iter":
            state["iter"] = self.iter + 1
        elif stage == "before_val_iter":  # a workflow val phase: -(1000 x epochs + val batch)
            state["iter"] = -(1000 * self.epoch + self.inner_iter + 1)
        original_call(self, stage)

    Runner.call = call


def dump(work_dir: str) -> None:
    from ocr_ds.engine import allocator

    rank = os.environ.get("RANK", "0")
    with open(os.path.join(work_dir, f"syncs_rank{rank}.json"), "w") as f:
        json.dump({"malloc": allocator.applied,
                   "iters": {str(k): v for k, v in sorted(records.items())}}, f, indent=0)


if __name__ == "__main__":
    import helpers

    helpers.train_with_probe(install, dump)

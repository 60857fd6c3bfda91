"""Per-rank memory accounting (ocr_ds.engine.memory) on real DeepSpeed ranks: ZeRO-0 holds every
byte of parameters, gradients and Adam state on each rank; ZeRO-3 at 2 ranks half of each; ZeRO-2
half of the gradients and Adam state and no fp32 master copy; ZeRO-3 in bf16 half of the bf16
weights and gradients plus an fp32 master of its half; the engine sizes ZeRO's buffers from the
model, keeping the user's values."""
from __future__ import annotations

import concurrent.futures
import sys

import pytest

import helpers

sys.path.insert(0, helpers.ROOT)
from benchmarks import zero_memory  # noqa: E402

pytestmark = pytest.mark.slow
P = 64 * 256 + 256 + 2 * 256 + 256 * 4 + 4   # ToyRegressor(hidden=256): 18,180 parameters
TENSORS = 6                                  # 2 Linear + 1 BatchNorm, weight and bias each


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    cfg = tmp_path_factory.mktemp("cfg") / "toy_adam.py"
    cfg.write_text(f"_base_ = [{helpers.TOY!r}]\nmodel = dict(hidden=256)\n"
                   "optimizer = dict(_delete_=True, type='Adam', lr=1e-3)\n")
    # every ZeRO-3 parameter partitioned (DeepSpeed keeps tensors under 1e5 elements whole)
    zero = dict(stage3_param_persistence_threshold=0)
    runs = {0: (0, ()), 2: (2, ()), 3: (3, ()), "3bf16": (3, (zero_memory.BF16,))}
    # two runs at a time: memory is counted per process, and a toy run is mostly start-up
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = {key: pool.submit(zero_memory.measure, str(cfg), stage, ranks=2, iters=2,
                                    zero=zero, extra=extra,
                                    work_dir=str(tmp_path_factory.mktemp(f"z{key}")))
                   for key, (stage, extra) in runs.items()}
        return {key: f.result() for key, f in futures.items()}


def test_zero0_every_rank_holds_everything(records):
    for rec in records[0]:
        assert rec["num_params"] == P and rec["world_size"] == 2
        fig = rec["after_backward"]
        assert fig["params"] == 4 * P
        assert fig["grads"] == 4 * P                      # p.grad, fp32
        assert fig["optimizer"] == 8 * P + 4 * TENSORS    # exp_avg, exp_avg_sq, a step scalar each
        assert fig["master"] == 0
        assert rec["after_step"]["grads"] == 0            # set to None by zero_grad


def test_zero3_each_rank_holds_half(records):
    z0 = records[0][0]["after_backward"]
    for rec in records[3]:
        fig = rec["after_backward"]
        assert fig["params"] == 4 * P // 2                # every tensor has an even element count
        assert fig["grads"] == 4 * P // 2                 # grad_partitions_flat_buffer
        assert fig["optimizer"] == 8 * P // 2 + 4         # one flat partition, one step scalar
        # the optimizer updates the partitions in place (builder.share_zero3_fp32_partitions)
        assert fig["master"] == 0
        assert fig["total"] - fig["other"] <= 0.55 * (z0["total"] - z0["other"])
    assert sum(r["after_backward"]["params"] for r in records[3]) == 4 * P


def test_zero3_bf16_holds_half_of_bf16_weights_and_fp32_master(records):
    # zero_memory.py --bf16: bf16 weights and gradients, fp32 master weights and Adam state
    for rec in records["3bf16"]:
        fig = rec["after_backward"]
        assert fig["params"] == 2 * P // 2                # bf16 partitions
        assert fig["grads"] == 2 * P // 2
        assert fig["master"] == 4 * P // 2                # fp32 copy of this rank's partition
        assert fig["optimizer"] == 8 * P // 2 + 4


def test_zero2_holds_no_fp32_master_copy(records):
    z0 = records[0][0]["after_backward"]
    for rec in records[2]:
        fig = rec["after_backward"]
        # the optimizer updates this rank's slice of the flat buffer in place
        # (builder.share_zero12_fp32_partitions)
        assert fig["master"] == 0
        assert fig["params"] >= 4 * P                     # the whole flat buffer (plus padding)
        assert fig["optimizer"] == 8 * P // 2 + 4         # this rank's slice, one step scalar
        # (with the master copy: 0.85 here)
        assert fig["total"] - fig["other"] <= 0.75 * (z0["total"] - z0["other"])


def test_engine_sizes_zero_buffers_from_the_model(records):
    z2, z3 = records[2][0]["zero_config"], records[3][0]["zero_config"]
    # 18 k parameters: buckets at the 2**20-element floor; gathers of the largest layer (16,640
    # elements, rounded up to 1,024s)
    assert (z2["reduce_bucket_size"], z2["allgather_bucket_size"]) == (2**20, 2**20)
    assert (z3["reduce_bucket_size"], z3["sub_group_size"]) == (2**20, 2**20)
    assert (z3["stage3_prefetch_bucket_size"], z3["stage3_max_reuse_distance"]) == (17408, 17408)
    assert z3["stage3_param_persistence_threshold"] == 0  # the user's value is kept


def test_cpu_ranks_return_freed_memory_under_zero_only(records):
    # ocr_ds.engine.allocator's 'auto': freed memory kept for speed without ZeRO, returned under it
    assert [records[s][0]["cpu_malloc"] for s in (0, 2, 3)] == ["keep", "return", "return"]

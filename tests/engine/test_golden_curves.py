"""Golden curves (torchtitan's rule for refactors): fixed-seed runs give, iteration by
iteration, the losses, learning rates, gradient norms and evaluation metrics recorded in
``tests/fixtures/golden/curves.json``. The parity tests pin single steps against MMOCR; these pin
what only a whole run shows (data order and loader seeding, the schedule per iteration,
clipping, ZeRO's reduction, evaluation), so a refactor that moves a run's numbers fails here.

A change meant to move them (a fixed bug, a new default) rewrites the file and says so in its
commit::

    OCR_DS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/engine/test_golden_curves.py
"""
from __future__ import annotations

import concurrent.futures
import json
import math
import os
import subprocess

import pytest

import helpers

pytestmark = pytest.mark.slow
GOLDEN = os.path.join(helpers.ROOT, "tests", "fixtures", "golden", "curves.json")
CRNN = os.path.join(helpers.ROOT, "configs", "textrecog", "crnn", "crnn_synth_cpu.py")
# what a record holds that is not a number of the run (timings, memory, bookkeeping)
NOT_COMPARED = {"time", "data_time", "memory", "eta", "mode", "epoch", "iter", "seed",
                "exp_name", "env_info", "config"}
RTOL = 1e-4     # float rounding across CPU kernels; a changed run moves these numbers far more

TOY_RUN = f"""_base_ = [{helpers.TOY!r}]
data = dict(workers_per_gpu=1)
optimizer_config = dict(grad_clip=dict(_delete_=True, max_norm=1.0))
lr_config = dict(warmup='linear', warmup_iters=4, warmup_ratio=0.1)
total_epochs = 2
log_config = dict(interval=1)
deepspeed = dict(zero_optimization=dict(stage=2))
"""
CRNN_RUN = f"""_base_ = [{CRNN!r}]
synth_data = dict(num_train=256, num_test=64, write_lmdb=False)
data = dict(samples_per_gpu=16, val_dataloader=dict(samples_per_gpu=64))
runner = dict(_delete_=True, type='IterBasedRunner', max_iters=12)
total_epochs = None
checkpoint_config = dict(_delete_=True, interval=12, by_epoch=False)
evaluation = dict(interval=12, by_epoch=False)
lr_config = dict(warmup_iters=4)
log_config = dict(interval=1)
"""


def _records(work_dir: str) -> list[dict]:
    """The run's log records (after the header), each reduced to its numbers and its place."""
    out = []
    for r in helpers.json_log(work_dir)[1:]:
        numbers = {k: v for k, v in r.items() if k not in NOT_COMPARED}
        out.append({"at": [r.get("mode"), r.get("epoch"), r.get("iter")], **numbers})
    return out


def _run(name: str, tmp_path) -> list[dict]:
    d = tmp_path / name
    d.mkdir()
    if name == "toy_zero2_2ranks":
        (d / "cfg.py").write_text(TOY_RUN)
        cmd = helpers.command(["--work-dir", str(d / "run"), "--seed", "0", "--deterministic"],
                              ranks=2, config=str(d / "cfg.py"))
    else:
        (d / "cfg.py").write_text(CRNN_RUN)     # generates its data set in d/data first
        cmd = helpers.command(["--work-dir", str(d / "run"), "--seed", "0", "--deterministic"],
                              config=str(d / "cfg.py"))
    proc = subprocess.run(cmd, cwd=d, env=helpers.env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{name}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return _records(str(d / "run"))


def _first_difference(ours: list[dict], golden: list[dict]) -> str | None:
    if [r["at"] for r in ours] != [r["at"] for r in golden]:
        return f"records at {[r['at'] for r in ours]}, golden {[r['at'] for r in golden]}"
    for mine, gold in zip(ours, golden):
        if set(mine) != set(gold):
            return f"{mine['at']}: keys {sorted(mine)}, golden {sorted(gold)}"
        for k, v in gold.items():
            w = mine[k]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if not (isinstance(w, (int, float)) and math.isclose(w, v, rel_tol=RTOL,
                                                                     abs_tol=1e-9)):
                    return f"{mine['at']} {k}: {w!r}, golden {v!r}"
            elif w != v:
                return f"{mine['at']} {k}: {w!r}, golden {v!r}"
    return None


def test_fixed_seed_runs_give_the_golden_curves(tmp_path):
    names = ["toy_zero2_2ranks", "crnn_demo_1rank"]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        curves = dict(zip(names, pool.map(lambda n: _run(n, tmp_path), names)))
    if os.environ.get("OCR_DS_UPDATE_GOLDEN") == "1":
        os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
        with open(GOLDEN, "w") as f:
            json.dump(curves, f, indent=1)
            f.write("\n")
        pytest.skip(f"rewrote {GOLDEN}")
    with open(GOLDEN) as f:
        golden = json.load(f)
    assert sorted(golden) == sorted(names)
    for name in names:
        assert len(curves[name]) > 10
        difference = _first_difference(curves[name], golden[name])
        assert difference is None, (
            f"{name} moved from its golden curve: {difference}. If that is meant, rewrite it "
            f"(OCR_DS_UPDATE_GOLDEN=1, see this file's docstring) and say why in the commit")

"""launch/slurm_test.sh on the one-node SLURM of tests/cluster: two srun tasks evaluate the demo
recognition checkpoint (ZeRO-3 partitions) and print the metrics and write the predictions one
process gives; a bad flag is one line and exit 2 before srun starts anything."""
from __future__ import annotations

import ast
import json
import os

import pytest

import cluster_util as cu

pytestmark = pytest.mark.cluster
SLURM_TEST = os.path.join(cu.LAUNCH, "slurm_test.sh")
TWO_TASKS = dict(GPUS="2", GPUS_PER_NODE="2", CPUS_PER_TASK="1", GPU_GRES="0")


def test_slurm_test_sh_matches_one_process(slurm1, demo_checkpoints, tmp_path):
    from ocr_ds.test import parse_args, run

    one = tmp_path / "one.json"
    metrics = run(parse_args([demo_checkpoints.crnn, demo_checkpoints.crnn_zero3, "--eval", "acc",
                              "--out", str(one)]))
    two = tmp_path / "two.json"
    rc, out = cu.run([SLURM_TEST, "debug", "ocr_ds-test", demo_checkpoints.crnn,
                      demo_checkpoints.crnn_zero3, "--eval", "acc", "--out", str(two)],
                     str(tmp_path / "log"), env_=cu.env(**slurm1, **TWO_TASKS))
    assert rc == 0, out[-6000:]
    assert "--ntasks=2" in out and "ocr_ds/test.py" in out and "--launcher slurm" in out
    got, want = json.loads(two.read_text()), json.loads(one.read_text())
    assert [p["text"] for p in got] == [p["text"] for p in want]
    assert [p["score"] for p in got] == pytest.approx([p["score"] for p in want], rel=1e-4)
    (line,) = [ln for ln in out.splitlines() if ln.startswith("{")]
    assert ast.literal_eval(line) == metrics


def test_slurm_test_sh_bad_flag_is_one_line_before_srun(slurm1, demo_checkpoints, tmp_path):
    """Checked once on the submit host: one line (not one per task), exit 2, no job step."""
    rc, out = cu.run([SLURM_TEST, "debug", "ocr_ds-test", demo_checkpoints.crnn,
                      demo_checkpoints.crnn_zero3, "--eval", "bleu"],
                     str(tmp_path / "log"), env_=cu.env(**slurm1, **TWO_TASKS))
    assert rc == 2, out[-3000:]
    assert out.count("error: ") == 1 and "error: --eval: expected 'acc' or some of" in out, out
    assert "srun " not in out and "Traceback" not in out, out

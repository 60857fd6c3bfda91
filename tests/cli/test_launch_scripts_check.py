"""The launch scripts check the flags and the config once, in one process, before starting the
ranks (``OCR_DS_CHECK_ONLY=1``): bad input is one line per problem and exit 2, not one line per
rank followed by the launcher's report of the failed ranks, and nothing is created."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOY = os.path.join(ROOT, "tests", "fixtures", "engine", "toy.py")


@pytest.mark.parametrize("script,args,expected", [
    ("dist_train.sh", ["{wd}", "2", "--cfg-options", "model.type=X", "optimizer.lr=-1"],
     ["error: optimizer.lr: torch.optim.SGD refuses it: Invalid learning rate: -1 (got -1)",
      "error: model.type: unknown 'X'; expected one of: "]),
    ("dist_test.sh", ["{wd}/none.pth", "2", "--eval", "acc", "--out", "{wd}/p.json"],
     ["error: checkpoint: '{wd}/none.pth' does not exist"]),
    # SLURM's scripts check on the submit host, before srun (which is never reached here)
    ("slurm.sh", ["{wd}", "--gpus", "0"], ["error: --gpus: expected a positive integer (got 0)"]),
    ("slurm_test.sh", ["{wd}/none.pth", "--eval", "acc"],
     ["error: checkpoint: '{wd}/none.pth' does not exist"]),
], ids=["dist_train", "dist_test", "slurm", "slurm_test"])
def test_launch_scripts_check_once_before_the_ranks(script, args, expected, tmp_path):
    """torchrun or srun never starts (tests/cluster/test_slurm_test.py: the same on a real
    SLURM)."""
    wd = tmp_path / "wd"
    slurm = ["debug", "job"] if script.startswith("slurm") else []  # PARTITION JOB_NAME
    env = dict(os.environ, PYTHON=sys.executable, GPUS="2", GPUS_PER_NODE="2", GPU_GRES="0")
    proc = subprocess.run([os.path.join(ROOT, "launch", script), *slurm, TOY,
                           *[a.format(wd=wd) for a in args]], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == len(expected), proc.stderr
    for line, want in zip(lines, expected):
        assert line.startswith(want.format(wd=wd)), proc.stderr
    assert proc.stdout == "" and os.listdir(tmp_path) == []

"""A multi-rank CPU run leaves no DeepSpeed shared-memory all-reduce file behind in /dev/shm."""
from __future__ import annotations

import glob
import os
import subprocess

import pytest

import helpers

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="needs /dev/shm")
def test_two_rank_run_leaves_no_shm_files(tmp_path):
    port = helpers._free_port()
    pattern = f"/dev/shm/deepspeed_allreduce_buffer_{os.getuid()}_127.0.0.1_{port}_*"
    cmd = [os.path.join(helpers.BIN, "deepspeed"), "--num_gpus", "2", "--master_port", str(port),
           helpers.TRAIN, "--config", helpers.TOY, "--work-dir", str(tmp_path), "--no-validate",
           "--cfg-options", "total_epochs=1"]
    proc = subprocess.run(cmd, cwd=helpers.ROOT, env=helpers.env(), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = helpers.json_log(str(tmp_path))
    assert [r["mode"] for r in records[1:]] == ["train"] * 3  # it trained: 6 iters, log every 2
    assert glob.glob(pattern) == []

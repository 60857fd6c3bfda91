"""DRRG at DeepSpeed ZeRO-3 on 2 real CPU ranks whose test images give a graph on one rank and
none on the other (MMOCR's config, tiny data: one step of one image a rank, an evaluation, a
checkpoint).

ZeRO-3 gathers each module's weights as it runs, so both ranks must run the GCN for every test
image: MMOCR skips it where fewer than two text components are found, ocr_ds runs it on no
graph there. The probe (``zero3_probe.py``) forges the head's test maps per rank (an untrained
model proposes nothing) and records each GCN call, so the test shows the ranks really took the
two branches. Without the GCN run on no graph (MMOCR's branch), rank 0 gathers the GCN's
weights alone and the job fails (measured: gloo "Connection reset by peer", exit 250)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "engine"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "zoo"))
import helpers  # noqa: E402 (tests/engine/helpers.py: the multi-rank tests' runner)
from test_mmocr_configs import smoke_options  # noqa: E402
from tiny_data import make_data  # noqa: E402

from ocr_ds.config import Config  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zero3_probe.py")
CONFIG = os.path.join(ROOT, "configs", "textdet", "drrg", "drrg_r50_fpn_unet_1200e_ctw1500.py")


@pytest.mark.slow
def test_zero3_evaluates_with_a_graph_on_one_rank_and_none_on_the_other(tmp_path):
    cfg = Config.fromfile(CONFIG).to_dict()
    counts = make_data(cfg, str(tmp_path))
    work = str(tmp_path / "work")
    options = [*smoke_options(cfg, counts), "model.backbone.init_cfg=None",
               "deepspeed.zero_optimization.stage=3"]
    cmd = helpers.command(["--work-dir", work, "--seed", "0", "--cfg-options", *options],
                          ranks=2, config=CONFIG, script=PROBE)
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=helpers.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=400)
    except subprocess.TimeoutExpired:      # a rank left waiting in a collective
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        pytest.fail(f"timed out after 400 s (a rank waiting for the other?)\n{out[-6000:]}")
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}\n{out[-6000:]}"

    events = helpers.json_log(work)[1:]
    train = [e for e in events if e.get("mode") == "train"]
    assert train and all(np.isfinite(e["loss"]) for e in train), train
    val = [e for e in events if e.get("mode") == "val"]
    assert val and any(k.endswith("hmean-iou:hmean") for k in val[-1]), val
    assert os.path.isdir(os.path.join(work, "epoch_1"))
    gcn = []
    for rank in (0, 1):
        with open(os.path.join(work, f"gcn_rank{rank}.json")) as f:
            gcn.append(json.load(f))
    assert gcn[0] and all(n > 0 for n in gcn[0]), gcn       # a graph on rank 0
    assert gcn[1] == [0] * len(gcn[0]), gcn                 # the GCN on no graph on rank 1

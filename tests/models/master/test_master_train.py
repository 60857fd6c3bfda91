"""MMOCR's MASTER toy config on 2 DeepSpeed ranks at ZeRO-3 in bf16, then ``infer_recog``.

MASTER's test pipeline reads tall crops in three rotations (``MultiRotateAugOCR``); the toy
set holds one, so the ranks decode different numbers of views and must still evaluate in
lockstep (ZeRO-3 gathers the parameters in every forward, greedy decoding runs the decoder
``max_seq_len`` times). The model is narrowed with ``--cfg-options`` (GCA blocks, stage
plugins and the 240-position map kept); the config file is MMOCR's own."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ocr_ds.engine.dist import free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sar"))
from test_sar_train import _toy_dataset  # noqa: E402  (MMOCR's toy set layout, tall crop)

pytestmark = pytest.mark.slow
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIG = os.path.join(ROOT, "configs", "textrecog", "master", "master_toy_dataset.py")


def test_toy_config_zero3_bf16_two_ranks_then_infer(tmp_path):
    imgs = _toy_dataset(str(tmp_path))
    work = tmp_path / "work"
    bin_dir = os.path.dirname(sys.executable)
    options = [
        "model.backbone.stem_channels=[8,16]", "model.backbone.arch_layers=[1,1,1,1]",
        "model.backbone.arch_channels=[16,16,32,32]", "model.decoder.d_model=32",
        "model.decoder.n_head=4", "model.decoder.d_inner=64", "model.decoder.n_layers=1",
        "deepspeed.zero_optimization.stage=3", "bf16.enabled=True",
        "data.samples_per_gpu=4", "data.workers_per_gpu=0", "runner.max_epochs=1",
        "data.train.datasets.0.loader.repeat=1", "data.train.datasets.1.loader.repeat=1",
        "log_config.interval=1"]
    cmd = [os.path.join(bin_dir, "deepspeed"), "--num_gpus", "2", "--master_port",
           str(free_port()), os.path.abspath(os.path.join(ROOT, "ocr_ds", "train.py")),
           "--config", CONFIG, "--work-dir", str(work), "--seed", "0",
           "--cfg-options", *options]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    (log,) = [p for p in os.listdir(work) if p.endswith(".log.json")]
    with open(work / log) as f:
        events = [json.loads(line) for line in f][1:]
    train = [e for e in events if e.get("mode") == "train"]
    assert len(train) == 1 and np.isfinite(train[0]["loss_ce"])  # 8 crops, 2 ranks x 4
    (val,) = [e for e in events if e.get("mode") == "val"]
    assert 0.0 <= val["0_word_acc"] <= 1.0 and "0_1-N.E.D" in val

    images = [os.path.join(imgs, f"{i}.jpg") for i in range(4)]
    out = subprocess.run([sys.executable, "-m", "ocr_ds.tools.infer_recog", str(work), *images],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # (DeepSpeed's own log lines go to stdout too; the results are the tab-separated ones)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.count("\t") == 2]
    assert [r[0] for r in rows] == images
    for _, text, score in rows:
        # at most max_seq_len characters; an unknown one prints as '<UKN>' (MMOCR's token).
        # MASTER's scores are the decoder's raw logits (MMOCR's), not probabilities.
        assert len(text.replace("<UKN>", "?")) <= 30 and np.isfinite(float(score))

"""MMOCR's ABINet config (vision model, language model, fuser, 3 correction rounds) on 2
DeepSpeed ranks at ZeRO-3 in bf16, then ``infer_recog`` on the checkpoint.

ZeRO-3 gathers a module's parameters around each call: ABINet calls its language model and
fuser three times in one forward, in training and in evaluation, which is what this run
exercises, together with bf16 through the attention masks and the position attention. The
model is narrowed with ``--cfg-options`` (the widths of the parity test's narrow model); the
config file is MMOCR's own, its data tiny sets at the paths it names (the zoo's generator)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ocr_ds.config import Config
from ocr_ds.engine.dist import free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "zoo"))
from tiny_data import make_data  # noqa: E402

pytestmark = pytest.mark.slow
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIG = os.path.join(ROOT, "configs", "textrecog", "abinet", "abinet_academic.py")
NARROW = [
    "model.backbone.stem_channels=8", "model.backbone.base_channels=8",
    "model.backbone.arch_settings=[1,2,1]", "model.backbone.strides=[2,1,2]",
    "model.encoder.encoder.n_layers=1", "model.encoder.encoder.n_head=4",
    "model.encoder.encoder.d_model=32", "model.encoder.encoder.d_inner=64",
    "model.encoder.decoder.in_channels=32", "model.encoder.decoder.num_channels=8",
    "model.decoder.d_model=32", "model.decoder.n_head=4", "model.decoder.d_inner=64",
    "model.decoder.n_layers=1", "model.fuser.d_model=32"]


def test_abinet_zero3_bf16_two_ranks_then_infer(tmp_path):
    cfg = Config.fromfile(CONFIG).to_dict()
    counts = make_data(cfg, str(tmp_path))  # 2 training sets, 6 test sets of 2 crops
    work = tmp_path / "work"
    bin_dir = os.path.dirname(sys.executable)
    options = NARROW + [
        "deepspeed.zero_optimization.stage=3", "bf16.enabled=True",
        "data.samples_per_gpu=1", "data.workers_per_gpu=0", "runner.max_epochs=1",
        "data.train.datasets.0.loader.repeat=2", "data.train.datasets.1.loader.repeat=2",
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
    assert len(train) == sum(counts.values()) >= 2  # each crop twice, 2 ranks x 1 a step
    for e in train:  # the three losses, each finite, summing to the total
        parts = [e["loss_visual"], e["loss_lang"], e["loss_fusion"]]
        assert np.isfinite(parts).all() and abs(sum(parts) - e["loss"]) < 1e-3, e
    (val,) = [e for e in events if e.get("mode") == "val"]
    assert 0.0 <= val["mean_word_acc"] <= 1.0 and "5_1-N.E.D" in val

    images = sorted(str(p) for p in (tmp_path / "data" / "mixture" / "ct80").rglob("*.jpg"))
    assert images
    out = subprocess.run([sys.executable, "-m", "ocr_ds.tools.infer_recog", str(work), *images],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # (DeepSpeed's own log lines go to stdout too; the results are the tab-separated ones)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.count("\t") == 2]
    assert [r[0] for r in rows] == images
    for _, text, score in rows:  # DICT36 lower case, one character a position at most
        assert len(text) <= 26 and set(text) <= set("0123456789abcdefghijklmnopqrstuvwxyz")
        assert 0.0 <= float(score) <= 1.0

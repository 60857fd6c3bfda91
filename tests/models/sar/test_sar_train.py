"""MMOCR's SAR toy config on 2 DeepSpeed ranks at ZeRO-3 in bf16, then ``infer_recog``.

The test set holds a tall crop, which ``MultiRotateAugOCR`` reads in three rotations while the
other rank's crops have one view: evaluation must still run in lockstep (ZeRO-3 gathers the
parameters in every forward). The model is narrowed with ``--cfg-options``, the config file is
MMOCR's own."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ocr_ds.engine.dist import free_port
from ocr_ds.tools.gen_recog_data import render_word
from ocr_ds.tools.to_lmdb import write_recog_lmdb

pytestmark = pytest.mark.slow
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIG = os.path.join(ROOT, "configs", "textrecog", "sar",
                      "sar_r31_parallel_decoder_toy_dataset.py")
WORDS = ["hello", "world", "sar", "zoo"]


def _toy_dataset(root):
    """MMOCR's toy set layout: imgs/, label.txt and a label lmdb of JSON lines."""
    imgs = os.path.join(root, "tests", "data", "ocr_toy_dataset", "imgs")
    os.makedirs(imgs)
    rng = np.random.default_rng(0)
    lines = []
    for i, word in enumerate(WORDS):
        img = render_word(word, rng)
        if i == 3:  # a tall crop: read at 0, 90 and 270 degrees
            img = np.ascontiguousarray(np.rot90(img))
        cv2.imwrite(os.path.join(imgs, f"{i}.jpg"), img)
        lines.append((f"{i}.jpg", word))
    folder = os.path.dirname(imgs)
    with open(os.path.join(folder, "label.txt"), "w") as f:
        f.writelines(f"{n} {t}\n" for n, t in lines)
    write_recog_lmdb(os.path.join(folder, "label.lmdb"),
                     [json.dumps(dict(filename=n, text=t)) for n, t in lines])
    return imgs


def test_toy_config_zero3_bf16_two_ranks_then_infer(tmp_path):
    imgs = _toy_dataset(str(tmp_path))
    work = tmp_path / "work"
    bin_dir = os.path.dirname(sys.executable)
    options = [
        "model.backbone.channels=[8,16,16,16,32,32,32]", "model.encoder.d_model=32",
        "model.encoder.d_enc=16", "model.decoder.d_model=32", "model.decoder.d_enc=16",
        "model.decoder.d_k=8", "deepspeed.zero_optimization.stage=3", "bf16.enabled=True",
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
        assert len(text) <= 30 and 0.0 <= float(score) <= 1.0

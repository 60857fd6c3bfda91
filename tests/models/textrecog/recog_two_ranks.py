"""A recognition config on 2 DeepSpeed CPU ranks, then ``infer_recog`` on its checkpoint: the
multi-rank checks the attention recognisers share (``tests/models/<family>/test_*_train.py``).

:func:`toy_dataset` writes MMOCR's toy set layout (with one tall crop, which
``MultiRotateAugOCR`` reads in three rotations, so the ranks decode different numbers of
views); :func:`train_then_infer` trains one epoch with the given ``--cfg-options`` and returns
the run's log events and ``infer_recog``'s rows."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np

from ocr_ds.engine.dist import free_port
from ocr_ds.tools.gen_recog_data import render_word
from ocr_ds.tools.to_lmdb import write_recog_lmdb

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
WORDS = ["hello", "world", "sar", "zoo"]


def toy_dataset(root: str) -> str:
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


def train_then_infer(config: str, options: list[str], tmp_path) -> tuple[list, list, list]:
    """Train ``config`` on the toy set on 2 ranks; (log events, images, infer_recog rows
    ``[image, text, score]``)."""
    imgs = toy_dataset(str(tmp_path))
    work = tmp_path / "work"
    bin_dir = os.path.dirname(sys.executable)
    cmd = [os.path.join(bin_dir, "deepspeed"), "--num_gpus", "2", "--master_port",
           str(free_port()), os.path.abspath(os.path.join(ROOT, "ocr_ds", "train.py")),
           "--config", config, "--work-dir", str(work), "--seed", "0",
           "--cfg-options", *options]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    (log,) = [p for p in os.listdir(work) if p.endswith(".log.json")]
    with open(work / log) as f:
        events = [json.loads(line) for line in f][1:]

    images = [os.path.join(imgs, f"{i}.jpg") for i in range(len(WORDS))]
    out = subprocess.run([sys.executable, "-m", "ocr_ds.tools.infer_recog", str(work), *images],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    # (DeepSpeed's own log lines go to stdout too; the results are the tab-separated ones)
    rows = [line.split("\t") for line in out.stdout.splitlines() if line.count("\t") == 2]
    return events, images, rows

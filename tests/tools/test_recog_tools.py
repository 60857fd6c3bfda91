"""gen_recog_data (determinism, both output forms) and infer_recog on a random-weights model."""
import json
import os
import subprocess
import sys

import cv2
import lmdb
import pytest
import torch

from ocr_ds.errors import UserError
from ocr_ds.tools import gen_recog_data, infer_recog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _files(root):
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            if "_lmdb" not in dirpath:
                with open(path, "rb") as f:
                    out[os.path.relpath(path, root)] = f.read()
    return out


def _lmdb_items(path):
    env = lmdb.open(path, readonly=True, lock=False)
    with env.begin() as txn:
        items = dict(txn.cursor())
    env.close()
    return items


def test_generator_is_deterministic_and_writes_both_forms(tmp_path):
    a, b, c = (str(tmp_path / n) for n in "abc")
    gen_recog_data.generate(a, num_train=12, num_test=5, seed=3)
    gen_recog_data.generate(b, num_train=12, num_test=5, seed=3)
    gen_recog_data.generate(c, num_train=12, num_test=5, seed=4)
    files_a = _files(a)
    assert files_a == _files(b)  # same seed: identical bytes
    assert files_a != _files(c)
    assert _lmdb_items(os.path.join(a, "train_lmdb")) == _lmdb_items(os.path.join(b, "train_lmdb"))

    lines = files_a["train_label.txt"].decode().splitlines()
    assert len(lines) == 12 and len(files_a["test_label.txt"].decode().splitlines()) == 5
    charset = set("0123456789abcdefghijklmnopqrstuvwxyz")
    for line in lines:
        name, text = line.split(" ")
        assert 3 <= len(text) <= 10 and set(text) <= charset
        img = cv2.imread(os.path.join(a, "train", name))
        assert img is not None and img.ndim == 3 and 20 <= img.shape[0] <= 70
    items = _lmdb_items(os.path.join(a, "test_lmdb"))
    assert items[b"num-samples"] == b"5"
    test_lines = files_a["test_label.txt"].decode().splitlines()
    for i, line in enumerate(test_lines, 1):
        name, text = line.split(" ")
        assert items[f"label-{i:09d}".encode()] == text.encode()
        assert items[f"image-{i:09d}".encode()] == files_a[os.path.join("test", name)]
    assert json.loads(files_a["meta.json"])["seed"] == 3


def test_test_set_does_not_depend_on_train_size(tmp_path):
    gen_recog_data.generate(str(tmp_path / "x"), num_train=3, num_test=4, seed=0, write_lmdb=False)
    gen_recog_data.generate(str(tmp_path / "y"), num_train=9, num_test=4, seed=0, write_lmdb=False)
    x, y = (tmp_path / d / "test_label.txt" for d in "xy")
    assert x.read_bytes() == y.read_bytes()
    assert not (tmp_path / "x/train_lmdb").exists()


def test_ensure_generated_skips_current_data(tmp_path):
    out = str(tmp_path / "d")
    assert gen_recog_data.ensure_generated(out, num_train=2, num_test=1, seed=0)
    assert not gen_recog_data.ensure_generated(out, num_train=2, num_test=1, seed=0)
    assert gen_recog_data.ensure_generated(out, num_train=3, num_test=1, seed=0)


def test_generator_cli(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run(
        [sys.executable, "-m", "ocr_ds.tools.gen_recog_data", str(out), "--num-train", "3",
         "--num-test", "2", "--seed", "1", "--charset", "DICT90"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len((out / "train_label.txt").read_text().splitlines()) == 3
    bad = subprocess.run([sys.executable, "-m", "ocr_ds.tools.gen_recog_data", str(out),
                          "--charset", "DICT99"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error: charset.dict_type")


MODEL = dict(
    type="CRNNNet",
    backbone=dict(type="VeryDeepVgg", leaky_relu=False, input_channels=1,
                  channels=(4, 8, 8, 8, 16, 16, 16)),
    decoder=dict(type="CRNNDecoder", in_channels=16, rnn_flag=True, hidden_channels=8),
    loss=dict(type="CTCLoss"),
    label_convertor=dict(type="CTCConvertor", dict_type="DICT36", with_unknown=False, lower=True))


def test_infer_recog_prints_one_line_per_image(tmp_path, capsys):
    from ocr_ds.registry import MODELS, build

    torch.manual_seed(0)
    model = build(MODELS, MODEL, "model")
    ckpt = tmp_path / "crnn.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {"config": {"model": MODEL}}}, ckpt)
    gen_recog_data.generate(str(tmp_path / "d"), num_train=0, num_test=3, seed=0,
                            write_lmdb=False)
    images = sorted(str(p) for p in (tmp_path / "d" / "test").iterdir())
    assert infer_recog.main([str(ckpt), *images]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    for line, image in zip(lines, images):
        path, text, score = line.split("\t")
        assert path == image and set(text) <= set("0123456789abcdefghijklmnopqrstuvwxyz")
        assert 0.0 <= float(score) <= 1.0 and len(score.split(".")[1]) == 4


def test_infer_recog_errors(tmp_path):
    plain = tmp_path / "plain.pth"
    torch.save({"w": torch.zeros(1)}, plain)
    proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.infer_recog", str(plain), "x.png"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "pass --config" in proc.stderr
    assert "Traceback" not in proc.stderr
    with pytest.raises(UserError, match="does not exist"):
        infer_recog.main([str(tmp_path / "missing.pth"), "x.png"])

"""``ocr_ds/test.py`` on the demo checkpoints (tests/conftest.py): every checkpoint form, one
process against N ranks under torchrun (``launch/dist_test.sh``) and DeepSpeed's launcher,
``--show-dir`` pictures, the ``--format-only`` / ``--out`` round trip, ``--fuse-conv-bn``.

Predictions are compared in full: the same number, in the same order, texts equal, numbers
(coordinates, scores) equal up to float rounding (a CPU convolution's last digits depend on the
batch it ran in and the thread count); the metrics printed must be equal.
"""
from __future__ import annotations

import ast
import json
import os
import re
import sys

import cv2
import numpy as np
import pytest
import torch

from ocr_ds.engine.dist import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEST = os.path.join(ROOT, "ocr_ds", "test.py")
BIN = os.path.dirname(sys.executable)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from demo_checkpoints import run  # noqa: E402

# every test here uses the demo checkpoints, whose fixture starts DeepSpeed ranks
pytestmark = pytest.mark.slow


def in_process(capsys, *argv: str) -> tuple[dict | None, str]:
    """``test.py argv`` in this process: (returned metrics, stdout)."""
    from ocr_ds.test import parse_args, run as run_test

    capsys.readouterr()
    metrics = run_test(parse_args(list(argv)))
    return metrics, capsys.readouterr().out


def metrics_line(stdout: str) -> str:
    """The line MMOCR's test.py prints: the metrics dict."""
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    return line


def read(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def assert_same(a, b, where: str = "predictions") -> None:
    """Same structure and strings; numbers equal up to float rounding."""
    if isinstance(a, (bytes, str)) and isinstance(b, (bytes, str)) and where == "predictions":
        a, b = json.loads(a), json.loads(b)
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-4), (where, a, b)
    else:
        assert a == b, (where, a, b)


@pytest.fixture(scope="module")
def recog_reference(demo_checkpoints, tmp_path_factory):
    """One process on the ZeRO-3 directory: the reference predictions and metrics line."""
    from ocr_ds.test import parse_args, run as run_test

    out = tmp_path_factory.mktemp("ref") / "recog.json"
    metrics = run_test(parse_args([demo_checkpoints.crnn, demo_checkpoints.crnn_zero3,
                                   "--eval", "acc", "--out", str(out)]))
    return metrics, read(out)


def test_every_checkpoint_form_gives_the_same_predictions(demo_checkpoints, recog_reference,
                                                          tmp_path, capsys):
    """A ZeRO-3 directory (partitions merged without exporting), its work dir (``latest``),
    the exported .pth and an MMOCR-format .pth: the same predictions and metrics."""
    metrics, reference = recog_reference
    preds = json.loads(reference)
    assert len(preds) == demo_checkpoints.recog_size
    # predictions that differ from image to image, so a mix-up of order would show (if not:
    # pick another CRNN_SEED in tests/demo_checkpoints.py)
    assert len({p["score"] for p in preds}) == len(preds)
    assert len({p["text"] for p in preds}) > 5
    assert metrics["0_char_recall"] > 0 and set(metrics) >= {"0_word_acc", "0_1-N.E.D"}
    for ckpt in (demo_checkpoints.crnn_work_dir, demo_checkpoints.crnn_exported,
                 demo_checkpoints.crnn_mmocr):
        out = tmp_path / f"{os.path.basename(ckpt)}.json"
        got, stdout = in_process(capsys, demo_checkpoints.crnn, ckpt, "--eval", "acc",
                                 "--out", str(out))
        assert_same(read(out), reference)
        assert got == metrics, ckpt
        assert ast.literal_eval(metrics_line(stdout)) == metrics  # printed as MMOCR prints
        assert f"writing results to {out}" in stdout


@pytest.mark.parametrize("launcher", ["torchrun", "deepspeed"])
def test_two_ranks_match_one_process(launcher, demo_checkpoints, recog_reference, tmp_path):
    """2 ranks: no padded duplicate counted (37 images), predictions in the dataset's order.
    torchrun collects through files (--tmpdir, removed afterwards), DeepSpeed's launcher
    through the process group (--gpu-collect)."""
    metrics, reference = recog_reference
    out = tmp_path / "preds.json"
    args = [demo_checkpoints.crnn, demo_checkpoints.crnn_zero3, "--eval", "acc", "--out", str(out)]
    if launcher == "torchrun":
        env_port = str(free_port())
        cmd = ["env", f"PORT={env_port}", os.path.join(ROOT, "launch", "dist_test.sh"),
               args[0], args[1], "2", *args[2:], "--tmpdir", str(tmp_path / "collect")]
    else:
        cmd = [os.path.join(BIN, "deepspeed"), "--num_gpus", "2", "--master_port",
               str(free_port()), TEST, *args, "--gpu-collect"]
    proc = run(cmd, cwd=str(tmp_path))
    assert_same(read(out), reference)
    assert ast.literal_eval(metrics_line(proc.stdout)) == metrics
    assert sorted(os.listdir(tmp_path)) == ["preds.json"]  # collect dir and parts removed
    progress = [ln for ln in proc.stdout.splitlines() if re.match(r"\[\d+/37\] ", ln)]
    assert progress[-1].startswith("[37/37] ") and "img/s, elapsed: " in progress[-1]


def test_detection_two_ranks_match_one_process_with_pictures(demo_checkpoints, tmp_path, capsys):
    """DBNet: 11 images over 2 ranks (launch/dist_test.sh: torchrun, cheaper to start than
    DeepSpeed's launcher, which the recognition test runs) in batches of 3 (padding at the
    end), default collect through ./.dist_test; both ranks draw their share of the --show-dir
    pictures."""
    one = tmp_path / "one"
    one.mkdir()
    metrics, _ = in_process(capsys, demo_checkpoints.dbnet, demo_checkpoints.det_ckpt, "--eval",
                            "hmean-iou", "--out", str(one / "preds.json"))
    two = tmp_path / "two"
    two.mkdir()
    proc = run(["env", f"PORT={free_port()}", os.path.join(ROOT, "launch", "dist_test.sh"),
                demo_checkpoints.dbnet, demo_checkpoints.det_ckpt, "2", "--eval", "hmean-iou",
                "--out", "preds.json", "--show-dir", "pictures"], cwd=str(two))
    assert_same(read(two / "preds.json"), read(one / "preds.json"))
    preds = json.loads(read(two / "preds.json"))
    assert len(preds) == demo_checkpoints.det_size
    assert len({round(p["boundary_result"][0][-1], 6) for p in preds if p["boundary_result"]}) > 3
    assert ast.literal_eval(metrics_line(proc.stdout)) == metrics
    assert sorted(os.listdir(two)) == ["pictures", "preds.json"]  # .dist_test removed
    _assert_pictures(two / "pictures", demo_checkpoints.dir / "det" / "imgs",
                     demo_checkpoints.det_size)


def _assert_pictures(show_dir, img_dir, count: int) -> None:
    pictures = sorted(os.path.relpath(os.path.join(r, f), show_dir)
                      for r, _, fs in os.walk(show_dir) for f in fs)
    assert len(pictures) == count, pictures
    for name in pictures:
        picture = cv2.imread(os.path.join(show_dir, name))
        original = cv2.imread(os.path.join(img_dir, name), cv2.IMREAD_UNCHANGED)
        assert picture is not None and original is not None, name
        assert picture.shape[:2] == original.shape[:2], name
        assert not np.array_equal(picture, cv2.cvtColor(original, cv2.COLOR_GRAY2BGR)
                                  if original.ndim == 2 else original), name  # something drawn


def test_recognition_pictures(demo_checkpoints, tmp_path, capsys):
    in_process(capsys, demo_checkpoints.crnn, demo_checkpoints.crnn_exported,
               "--show-dir", str(tmp_path / "pictures"))
    _assert_pictures(tmp_path / "pictures", demo_checkpoints.dir / "recog" / "test",
                     demo_checkpoints.recog_size)


def test_format_only_out_round_trip(demo_checkpoints, recog_reference, tmp_path, capsys):
    """--format-only writes the predictions without evaluating; evaluating that file later
    (tools/eval_results) prints exactly what --eval printed."""
    from ocr_ds.tools.eval_results import main as eval_results

    metrics, reference = recog_reference
    out = tmp_path / "preds.json"
    got, stdout = in_process(capsys, demo_checkpoints.crnn, demo_checkpoints.crnn_exported,
                             "--format-only", "--out", str(out))
    assert got is None and not any(ln.startswith("{") for ln in stdout.splitlines())
    assert_same(read(out), reference)
    capsys.readouterr()
    assert eval_results([demo_checkpoints.crnn, str(out), "--eval", "acc"]) == 0
    assert ast.literal_eval(metrics_line(capsys.readouterr().out)) == metrics


def test_fuse_conv_bn_keeps_the_outputs(demo_checkpoints, recog_reference, tmp_path, capsys):
    """Folding BatchNorm into the convolutions changes the arithmetic, not the predictions:
    DBNet's feature maps, and test.py --fuse-conv-bn's CRNN predictions and metrics."""
    from ocr_ds.checkpoint_io import load_checkpoint_any
    from ocr_ds.config import Config
    from ocr_ds.engine.fuse import fuse_conv_bn
    from ocr_ds.tools._infer_common import build_with_weights, strip_pretrained

    cfg = Config.fromfile(demo_checkpoints.dbnet)
    state, _ = load_checkpoint_any(demo_checkpoints.det_ckpt)
    model = build_with_weights(strip_pretrained(cfg["model"]), state)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        before = model.bbox_head(model.extract_feat(x))
        fused = fuse_conv_bn(model)
        after = fused.bbox_head(fused.extract_feat(x))
    # every BatchNorm after a Conv2d is gone (those after a ConvTranspose2d stay, as in mmcv)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.backbone.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
    metrics, reference = recog_reference
    out = tmp_path / "fused.json"
    got, _ = in_process(capsys, demo_checkpoints.crnn, demo_checkpoints.crnn_exported,
                        "--fuse-conv-bn", "--eval", "acc", "--out", str(out))
    assert_same(read(out), reference)
    assert got == metrics


def test_dry_run_checks_config_and_checkpoint(demo_checkpoints, tmp_path, monkeypatch, capsys):
    from ocr_ds.errors import run_cli
    from ocr_ds.test import main

    monkeypatch.chdir(tmp_path)
    _, stdout = in_process(capsys, demo_checkpoints.crnn, demo_checkpoints.crnn_zero3,
                           "--eval", "acc", "--dry-run")
    assert "tensors fit CRNNNet" in stdout and os.listdir(tmp_path) == []
    with pytest.raises(SystemExit) as exc:  # a detector's checkpoint for the recogniser
        run_cli(lambda: main([demo_checkpoints.crnn, demo_checkpoints.det_ckpt, "--eval", "acc",
                              "--dry-run"]))
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0, err
    assert err.startswith(f"error: {demo_checkpoints.det_ckpt}: ") and "missing" in err, err


def test_evaluation_arguments_are_checked_before_predicting(demo_checkpoints, tmp_path,
                                                            monkeypatch, capsys):
    """A wrong --eval-options / evaluation value is found before the predictions are made (and
    --out written), named by where it came from."""
    from ocr_ds.errors import run_cli
    from ocr_ds.test import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main([demo_checkpoints.dbnet, demo_checkpoints.det_ckpt, "--eval",
                              "hmean-iou", "--out", "preds.json", "--eval-options",
                              "min_score_thr=low", "--cfg-options", "evaluation.step=big"]))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and os.listdir(tmp_path) == []
    assert err == ["error: evaluation.step: expected a number (got 'big')",
                   "error: --eval-options min_score_thr: expected a number (got 'low')"]

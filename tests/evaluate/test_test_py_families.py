"""``ocr_ds/test.py`` on every model family's demo config (one process, in-process): each one's
predictions (texts, or polygons of its own shape: quads, curved boundaries, Fourier contours)
go through ``--eval``, ``--out`` and ``--show-dir`` alike.

The weights are the model's own initial ones saved as a ``.pth`` and the test sets a few
generated images (the config's ``synth_data``, made smaller), so the metrics are near zero;
what is checked is that each family's results are evaluated with the metric names its config
asks for, written one per test image in order, and drawn one picture per image of its size.
The numbers of trained models are checked on the CRNN and DBNet demos (test_test_py.py).
"""
from __future__ import annotations

import glob
import importlib
import json
import os

import cv2
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAMILIES = [  # one demo config per family not covered by test_test_py.py
    "textdet/dbnetpp/dbnetpp_r50dcnv2_synth_cpu.py",
    "textdet/psenet/psenet_r50_synth_cpu.py",
    "textdet/panet/panet_r18_synth_cpu.py",
    "textdet/fcenet/fcenet_r50_synth_curved_cpu.py",
    "textdet/textsnake/textsnake_r50_synth_curved_cpu.py",
    "textrecog/sar/sar_synth_cpu.py",
    "textrecog/robust_scanner/robustscanner_r31_synth_cpu.py",
    "textrecog/abinet/abinet_synth_cpu.py",  # ABINet (issue 16)
    "textrecog/master/master_synth_cpu.py",
]
NUM_TEST = 2


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One directory the demo configs' relative ``data/...`` roots resolve in (shared)."""
    return tmp_path_factory.mktemp("families")


@pytest.mark.parametrize("name", FAMILIES)
def test_family_evaluates_writes_and_draws(name, data_dir, tmp_path, monkeypatch, capsys):
    from ocr_ds import registry
    from ocr_ds.config import Config
    from ocr_ds.test import parse_args, run

    config = os.path.join(ROOT, "configs", name)
    cfg = Config.fromfile(config)
    spec = dict(cfg["synth_data"], num_train=1, num_test=NUM_TEST)
    if "size" in spec:
        spec["size"] = 96
    monkeypatch.chdir(data_dir)
    importlib.import_module(f"ocr_ds.tools.{spec.pop('tool')}").ensure_generated(
        spec.pop("out_dir"), **spec)
    torch.manual_seed(0)
    model = registry.build(registry.MODELS, cfg["model"], "model")
    model.init_weights()
    ckpt = tmp_path / "model.pth"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    metric = cfg["evaluation"]["metric"]
    out, pictures = tmp_path / "preds.json", tmp_path / "pictures"
    metrics = run(parse_args([config, str(ckpt), "--eval", metric, "--out", str(out),
                              "--show-dir", str(pictures)]))
    stdout = capsys.readouterr().out
    if name.startswith("textdet"):
        assert set(metrics) == {f"hmean-iou:{k}" for k in ("recall", "precision", "hmean")}
    else:
        assert {"0_word_acc", "0_char_recall", "0_1-N.E.D"} <= set(metrics)
    assert str(metrics) in stdout.splitlines()  # printed as MMOCR prints the dict
    preds = json.loads(out.read_text())
    assert len(preds) == NUM_TEST
    key = "boundary_result" if name.startswith("textdet") else "text"
    assert all(key in p for p in preds), preds
    drawn = sorted(glob.glob(str(pictures / "**" / "*.*"), recursive=True))
    assert len(drawn) == NUM_TEST, drawn
    img_dir = cfg["data"]["test"]
    img_dir = (img_dir["datasets"][0] if "datasets" in img_dir else img_dir)["img_prefix"]
    for path in drawn:
        original = cv2.imread(os.path.join(img_dir, os.path.relpath(path, pictures)),
                              cv2.IMREAD_UNCHANGED)
        assert original is not None, path
        assert cv2.imread(path).shape[:2] == original.shape[:2], path

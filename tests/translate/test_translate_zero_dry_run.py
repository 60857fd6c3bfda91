"""`train.py CONFIG --dry-run` at ZeRO stage >= 1: the buffer sizes derived from the model (built
on the meta device) are printed, each with its reason in the notes; the user's values are kept."""
from __future__ import annotations

import json
import os

import pytest

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model, measure_model, model_facts
from ocr_ds.errors import run_cli
from ocr_ds.train import main

TOY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures",
                   "engine", "toy.py")
# ToyRegressor(in_channels=1, size=8, hidden=32, out_features=4): Linear 64x32 + 32 (net.1),
# BatchNorm 2x32, Linear 32x4 + 4
TOY_PARAMS = (2048, 32, 32, 32, 128, 4)


def _dry_run(tmp_path, capsys, *options: str) -> tuple[dict, str]:
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main([TOY, "--dry-run", "--gpus", "2", "--work-dir", str(tmp_path / "wd"),
                              "--cfg-options", *options]))
    assert exc.value.code == 0
    out = capsys.readouterr()
    assert not (tmp_path / "wd").exists()
    return json.loads(out.out), out.err


def test_meta_device_measure_equals_the_real_model():
    cfg = Config.fromfile(TOY)
    facts = measure_model(cfg)
    assert facts == model_facts(build_model(cfg))
    assert sorted(facts.tensor_numels) == sorted(TOY_PARAMS)
    assert (facts.largest_layer, facts.largest_layer_name) == (2048 + 32, "net.1")


def test_dry_run_prints_derived_zero3_sizes_and_why(tmp_path, capsys):
    ds, notes = _dry_run(tmp_path, capsys, "deepspeed.zero_optimization.stage=3",
                         "deepspeed.zero_optimization.stage3_max_reuse_distance=7")
    # CPU ranks: no prefetch; the toy's largest layer (2,080) rounded up to 1,024s; tensors of
    # <= 4 elements (1 % of 2,276 = 22) kept whole; the user's reuse distance kept
    assert ds["zero_optimization"] == {
        "stage": 3, "reduce_bucket_size": 2**20, "sub_group_size": 2**20,
        "stage3_prefetch_bucket_size": 0, "stage3_max_live_parameters": 3072,
        "stage3_max_reuse_distance": 7, "stage3_param_persistence_threshold": 4,
        "stage3_model_persistence_threshold": 22}
    assert ("note: zero_optimization: buffer sizes derived from the model (2.3 k trainable "
            "parameters in 6 tensors, largest tensor 2.0 k (net.1.weight), largest layer 2.1 k "
            "(net.1)") in notes
    assert "note: zero_optimization.stage3_prefetch_bucket_size: 0 (0): CPU ranks cannot " \
        "overlap" in notes
    assert "note: zero_optimization.stage3_max_reuse_distance: 7 from deepspeed kept" in notes


def test_dry_run_without_zero_builds_no_model(tmp_path, capsys, monkeypatch):
    from ocr_ds.engine import builder

    monkeypatch.setattr(builder, "measure_model", lambda cfg: pytest.fail("model built"))
    ds, notes = _dry_run(tmp_path, capsys, "optimizer.lr=0.01")
    assert "zero_optimization" not in ds and "buffer sizes" not in notes


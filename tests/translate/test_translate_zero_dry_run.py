"""`train.py CONFIG --dry-run` at ZeRO stage >= 1: the buffer sizes derived from the model (built
on the meta device) are printed, each with its reason in the notes; the user's values are kept."""
from __future__ import annotations

import json
import os

import pytest

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model, measure_model, model_facts
from ocr_ds.errors import UserError, run_cli
from ocr_ds.train import main
from ocr_ds.translate import translate
from test_translate_ds_parser import parse
from test_translate_shipped_configs import CONFIGS, ROOT

TOY = os.path.join(ROOT, "tests", "fixtures", "engine", "toy.py")
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
    # gathers sized by the toy's largest layer (2,080, rounded up to 1,024s; more than 1/4 of
    # the model); tensors of <= 32 elements (5 % of 2,276 = 113) kept whole; the user's reuse
    # distance kept
    assert ds["zero_optimization"] == {
        "stage": 3, "reduce_bucket_size": 2**20, "sub_group_size": 2**20,
        "stage3_prefetch_bucket_size": 3072, "stage3_max_live_parameters": 3 * 3072,
        "stage3_max_reuse_distance": 7, "stage3_param_persistence_threshold": 32,
        "stage3_model_persistence_threshold": 113}
    assert ("note: zero_optimization: buffer sizes derived from the model (2.3 k trainable "
            "parameters in 6 tensors, largest tensor 2.0 k (net.1.weight), largest layer 2.1 k "
            "(net.1)") in notes
    assert "note: zero_optimization.stage3_prefetch_bucket_size: 3072 (3.1 k): 1/4 of the " \
        "model, at least its largest layer" in notes
    assert "note: zero_optimization.stage3_max_reuse_distance: 7 from deepspeed kept" in notes


def test_dry_run_without_zero_builds_no_model(tmp_path, capsys, monkeypatch):
    from ocr_ds.engine import builder

    monkeypatch.setattr(builder, "measure_model", lambda cfg: pytest.fail("model built"))
    ds, notes = _dry_run(tmp_path, capsys, "optimizer.lr=0.01")
    assert "zero_optimization" not in ds and "buffer sizes" not in notes



def test_dry_run_prints_the_json_when_the_model_cannot_be_built_here(tmp_path, capsys,
                                                                     monkeypatch):
    from ocr_ds.engine import builder

    def missing_weights(cfg):
        raise UserError("backbone.init_cfg.checkpoint: torchvision://resnet18 is not in the local "
                        "torch cache")

    monkeypatch.setattr(builder, "measure_model", missing_weights)
    ds, notes = _dry_run(tmp_path, capsys, "deepspeed.zero_optimization.stage=2")
    assert ds["zero_optimization"] == {"stage": 2}                   # DeepSpeed's defaults
    assert ("buffer sizes not derived in this dry run, the model cannot be built here "
            "(backbone.init_cfg.checkpoint: torchvision://resnet18") in notes


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
def test_every_shipped_model_is_measured_on_the_meta_device(path, monkeypatch):
    cfg = Config.fromfile(path)
    if cfg["model"].get("backbone", {}).get("init_cfg"):
        # ImageNet weights the ICDAR configs start from (not on every machine; same shapes)
        cfg["model"]["backbone"]["init_cfg"] = None
    try:
        facts = measure_model(cfg)
    except UserError as exc:   # weights a model's own defaults load (not on every machine)
        pytest.skip(str(exc))
    assert facts.num_params > 0 and facts.largest_layer >= facts.largest_tensor > 0
    cfg.setdefault("deepspeed", {})["zero_optimization"] = {"stage": 3}
    ds = translate(cfg, world_size=2, accelerator="cpu", model_facts=facts).ds_config
    parsed = parse(ds, 2, monkeypatch)
    assert parsed.zero_config.reduce_bucket_size == ds["zero_optimization"]["reduce_bucket_size"]

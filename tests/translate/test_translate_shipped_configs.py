"""Every shipped config (MMOCR layout, _base_ chains) loads, translates, and DeepSpeed's own parser
accepts the JSON — what `train.py CONFIG --dry-run` prints."""
from __future__ import annotations

import glob
import os

import pytest

from ocr_ds.config import Config
from ocr_ds.translate import translate
from test_translate_ds_parser import parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(os.path.join(ROOT, "configs", "**", "*.py"), recursive=True)
                 if "_base_" not in p)


def test_the_configs_the_issues_name_are_shipped():
    names = {os.path.relpath(p, ROOT) for p in CONFIGS}
    assert {"configs/textdet/psenet/psenet_r50_fpnf_sbn_1x_icdar2015.py",
            "configs/textrecog/crnn/crnn_synth_cpu.py",
            "configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: os.path.relpath(p, ROOT))
@pytest.mark.parametrize("world_size", [1, 8])
def test_shipped_config_translates_and_deepspeed_accepts_it(path, world_size, monkeypatch):
    cfg = Config.fromfile(path)
    ds = translate(cfg, world_size=world_size, accelerator="cpu").ds_config
    parsed = parse(ds, world_size, monkeypatch)
    assert parsed.train_batch_size == ds["train_micro_batch_size_per_gpu"] * world_size * \
        ds["gradient_accumulation_steps"]
    assert parsed.gradient_clipping == ds["gradient_clipping"]

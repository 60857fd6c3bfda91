"""MMOCR's MASTER toy config on 2 DeepSpeed ranks at ZeRO-3 in bf16, then ``infer_recog``.

MASTER's test pipeline reads tall crops in three rotations (``MultiRotateAugOCR``); the toy
set holds one, so the ranks decode different numbers of views and must still evaluate in
lockstep (ZeRO-3 gathers the parameters in every forward, greedy decoding runs the decoder
``max_seq_len`` times). The model is narrowed with ``--cfg-options`` (GCA blocks, stage
plugins and the 240-position map kept); the config file is MMOCR's own."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from recog_two_ranks import ROOT, train_then_infer  # noqa: E402

pytestmark = pytest.mark.slow
CONFIG = os.path.join(ROOT, "configs", "textrecog", "master", "master_toy_dataset.py")


def test_toy_config_zero3_bf16_two_ranks_then_infer(tmp_path):
    options = [
        "model.backbone.stem_channels=[8,16]", "model.backbone.arch_layers=[1,1,1,1]",
        "model.backbone.arch_channels=[16,16,32,32]", "model.decoder.d_model=32",
        "model.decoder.n_head=4", "model.decoder.d_inner=64", "model.decoder.n_layers=1",
        "deepspeed.zero_optimization.stage=3", "bf16.enabled=True",
        "data.samples_per_gpu=4", "data.workers_per_gpu=0", "runner.max_epochs=1",
        "data.train.datasets.0.loader.repeat=1", "data.train.datasets.1.loader.repeat=1",
        "log_config.interval=1"]
    events, images, rows = train_then_infer(CONFIG, options, tmp_path)
    train = [e for e in events if e.get("mode") == "train"]
    assert len(train) == 1 and np.isfinite(train[0]["loss_ce"])  # 8 crops, 2 ranks x 4
    (val,) = [e for e in events if e.get("mode") == "val"]
    assert 0.0 <= val["0_word_acc"] <= 1.0 and "0_1-N.E.D" in val
    assert [r[0] for r in rows] == images
    for _, text, score in rows:
        # at most max_seq_len characters; an unknown one prints as '<UKN>' (MMOCR's token).
        # MASTER's scores are the decoder's raw logits (MMOCR's), not probabilities.
        assert len(text.replace("<UKN>", "?")) <= 30 and np.isfinite(float(score))

"""MMOCR's SAR toy config on 2 DeepSpeed ranks at ZeRO-3 in bf16, then ``infer_recog``.

The test set holds a tall crop, which ``MultiRotateAugOCR`` reads in three rotations while the
other rank's crops have one view: evaluation must still run in lockstep (ZeRO-3 gathers the
parameters in every forward). The model is narrowed with ``--cfg-options``, the config file is
MMOCR's own."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from recog_two_ranks import ROOT, train_then_infer  # noqa: E402

pytestmark = pytest.mark.slow
CONFIG = os.path.join(ROOT, "configs", "textrecog", "sar",
                      "sar_r31_parallel_decoder_toy_dataset.py")


def test_toy_config_zero3_bf16_two_ranks_then_infer(tmp_path):
    options = [
        "model.backbone.channels=[8,16,16,16,32,32,32]", "model.encoder.d_model=32",
        "model.encoder.d_enc=16", "model.decoder.d_model=32", "model.decoder.d_enc=16",
        "model.decoder.d_k=8", "deepspeed.zero_optimization.stage=3", "bf16.enabled=True",
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
        assert len(text) <= 30 and 0.0 <= float(score) <= 1.0

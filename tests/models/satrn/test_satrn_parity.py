"""SATRN against MMOCR 0.6.3's own code: ShallowCNN + SatrnEncoder (adaptive 2-D positional
encoding, locality-aware feed-forward) + NRTRDecoder + TFLoss, trained one step (teacher
forcing, dropout on) and decoded greedily on a narrow model, with padded crops masked by
valid_ratio; then the shipped SATRN configs: MMOCR's files verbatim and MMOCR's state-dict keys
and shapes. (The test-time rotation of SATRN's pipeline is checked with SAR's model in
tests/models/textrecog/test_attn_base_parity.py.)"""
import os
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "textrecog"))
from textrecog_parity import batch, check_recognizer  # noqa: E402

from ocr_ds.config import Config  # noqa: E402
from ocr_ds.registry import MODELS, build  # noqa: E402
from parity import assert_same_keys, ref_file  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.join(HERE, "..", "..", "..")
REF = ref_file(os.path.join(HERE, "..", "nrtr", "x"), "mmocr_nrtr.py")
CONFIGS = ["textrecog/satrn/satrn_academic.py", "textrecog/satrn/satrn_small.py"]
BASES = ["_base_/recog_pipelines/satrn_pipeline.py"]


def satrn(d_model=32, input_channels=3, max_seq_len=7):
    heads = dict(n_head=4, d_k=d_model // 4, d_v=d_model // 4, d_model=d_model,
                 d_inner=d_model * 2)
    return dict(
        type="SATRN",
        backbone=dict(type="ShallowCNN", input_channels=input_channels, hidden_dim=d_model),
        encoder=dict(type="SatrnEncoder", n_layers=2, n_position=20, dropout=0.1, **heads),
        decoder=dict(type="NRTRDecoder", n_layers=2, d_embedding=d_model, **heads),
        loss=dict(type="TFLoss"),
        label_convertor=dict(type="AttnConvertor", dict_type="DICT90", with_unknown=True,
                             max_seq_len=max_seq_len),
        max_seq_len=max_seq_len)


@pytest.mark.parametrize("widths", [[40, 24, 12], [40, 40]], ids=["masked", "full"])
def test_satrn_matches_mmocr(mmocr_ref, tmp_path, widths):
    data = batch(widths, ["Hello", "a~b", "a longer word"][:len(widths)], height=16)
    check_recognizer(mmocr_ref, satrn(), data, tmp_path)


def test_shipped_satrn_configs_are_mmocrs(mmocr_ref):
    """MMOCR's SATRN config files verbatim, and their models' keys and shapes."""
    common = ref_file(os.path.join(ROOT, "tests", "parity", "x"), "mmocr_common.py")
    for name in [*CONFIGS, *BASES]:
        with open(os.path.join(ROOT, "configs", name), encoding="utf-8") as f:
            assert f.read() == mmocr_ref.call(common, "config_text", path=name), name
    cfgs = [Config.fromfile(os.path.join(ROOT, "configs", n))["model"] for n in CONFIGS]
    theirs = mmocr_ref.call(REF, "model_shapes", model_cfgs=cfgs)
    for cfg, shapes in zip(cfgs, theirs):
        with torch.device("meta"):
            model = build(MODELS, cfg, "model")
        assert_same_keys(model.state_dict(), {k: torch.empty(v, device="meta")
                                              for k, v in shapes.items()})

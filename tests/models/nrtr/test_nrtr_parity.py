"""NRTR against MMOCR 0.6.3's own code: NRTRModalityTransform or ResNet31OCR + NRTREncoder +
NRTRDecoder + TFLoss, trained one step (teacher forcing, dropout on) and decoded greedily, on
narrow models exercising the options the configs use (pre-/post-norm layers, ReLU/GELU,
qkv biases, masking by valid_ratio, the r31 variants' pools); then the shipped NRTR configs:
MMOCR's files verbatim and MMOCR's state-dict keys and shapes."""
import os
import sys

import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import batch, check_recognizer  # noqa: E402

from ocr_ds.config import Config  # noqa: E402
from ocr_ds.registry import MODELS, build  # noqa: E402
from parity import assert_same_keys, ref_file  # noqa: E402

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
REF = ref_file(__file__, "mmocr_nrtr.py")
CONFIGS = ["textrecog/nrtr/nrtr_modality_transform_academic.py",
           "textrecog/nrtr/nrtr_modality_transform_toy_dataset.py",
           "textrecog/nrtr/nrtr_r31_1by16_1by8_academic.py",
           "textrecog/nrtr/nrtr_r31_1by8_1by4_academic.py"]
BASES = ["_base_/recog_models/nrtr_modality_transform.py",
         "_base_/recog_pipelines/nrtr_pipeline.py", "_base_/schedules/schedule_adam_step_6e.py",
         "_base_/recog_datasets/ST_MJ_train.py"]


POST_NORM = dict(enc=("self_attn", "norm", "ffn", "norm"),
                 dec=("self_attn", "norm", "enc_dec_attn", "norm", "ffn", "norm"))


def nrtr(backbone, d_model, layer=None, convertor=None, max_seq_len=7, post_norm=False):
    layer = layer or {}
    heads = dict(n_head=4, d_k=d_model // 4, d_v=d_model // 4, d_model=d_model, d_inner=24)
    enc, dec = dict(layer), dict(layer)
    if post_norm:
        enc["operation_order"], dec["operation_order"] = POST_NORM["enc"], POST_NORM["dec"]
    return dict(
        type="NRTR", backbone=backbone,
        encoder=dict(type="NRTREncoder", n_layers=2, **heads, **enc),
        decoder=dict(type="NRTRDecoder", n_layers=2, d_embedding=d_model, n_position=20,
                     **heads, **dec),
        loss=dict(type="TFLoss"),
        label_convertor=convertor or dict(type="AttnConvertor", dict_type="DICT36",
                                          with_unknown=True, lower=True,
                                          max_seq_len=max_seq_len),
        max_seq_len=max_seq_len)


def r31(last_stage_pool):
    return dict(type="ResNet31OCR", layers=[1, 1, 1, 1], channels=[8, 16, 16, 24, 32, 32],
                stage4_pool_cfg=dict(kernel_size=(2, 1), stride=(2, 1)),
                last_stage_pool=last_stage_pool)


CASES = {
    # the shipped modality-transform model, 2 layers deep (the transform fixes d_model=512)
    "modality-transform": (nrtr(dict(type="NRTRModalityTransform"), 512), 32),
    # r31 1/16 x 1/8: a 2-row map flattened to one sequence (MMOCR's row-major mask)
    "r31-1by16-1by8": (nrtr(r31(True), 32, convertor=dict(
        type="AttnConvertor", dict_type="DICT90", with_unknown=True, max_seq_len=7)), 32),
    "r31-1by8-1by4-postnorm-relu-bias": (nrtr(r31(False), 32, layer=dict(
        qkv_bias=True, act_cfg=dict(type="mmcv.ReLU")), post_norm=True), 16),
}


@pytest.mark.parametrize("name", list(CASES))
def test_nrtr_matches_mmocr(mmocr_ref, tmp_path, name):
    model_cfg, height = CASES[name]
    # widths 40, 24, 12 of a 40-wide batch: valid ratios 1, 0.6, 0.3 (masked positions)
    data = batch([40, 24, 12], ["Hello", "ab", "a longer word"], height=height)
    check_recognizer(mmocr_ref, model_cfg, data, tmp_path)


def test_shipped_nrtr_configs_are_mmocrs(mmocr_ref):
    """MMOCR's NRTR config files verbatim, and their models' keys and shapes."""
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

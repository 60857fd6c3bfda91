"""MASTER against MMOCR 0.6.3's own code: the recognition ResNet (stage plugins Maxpool2d and
ConvModule, GCAModule blocks in every pooling/fusion variant) and MasterDecoder, seeded to the
same initial weights, trained one step (teacher forcing, dropout on) and decoded greedily; the
shipped MASTER configs' model trees and their full-size seeded initialisation; the files are
MMOCR's verbatim."""
import copy
import os
import sys

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.errors import UserError
from ocr_ds.registry import COMPONENTS, MODELS, build
from parity import assert_close, assert_same_keys, ref_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import (assert_same_init_as_mmocr, batch, check_recognizer,  # noqa: E402
                              seed_all)

torch.set_num_threads(1)
REF = ref_file(os.path.join(os.path.dirname(__file__), "..", "textrecog", "x"),
               "mmocr_textrecog.py")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIGS = ["textrecog/master/master_r31_12e_ST_MJ_SA.py",
           "textrecog/master/master_toy_dataset.py"]


def gca(**options):
    return dict(dict(type="GCAModule", ratio=0.25, n_head=1, pooling_type="att",
                     is_att_scale=False, fusion_type="channel_add"), **options)


# MMOCR's master.py stage plugins, for a 4-stage net
STAGE_PLUGINS = [
    dict(cfg=dict(type="Maxpool2d", kernel_size=2, stride=(2, 2)),
         stages=(True, True, False, False), position="before_stage"),
    dict(cfg=dict(type="Maxpool2d", kernel_size=(2, 1), stride=(2, 1)),
         stages=(False, False, True, False), position="before_stage"),
    dict(cfg=dict(type="ConvModule", kernel_size=3, stride=1, padding=1,
                  norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU")),
         stages=(True, True, True, True), position="after_stage")]


def backbone(block_plugins, init_cfg="config", **options):
    cfg = dict(dict(type="ResNet", in_channels=3, stem_channels=[8, 16],
                    block_cfgs=dict(type="BasicBlock", plugins=block_plugins),
                    arch_layers=[1, 2, 1, 1], arch_channels=[16, 16, 32, 32],
                    strides=[1, 1, 1, 1], plugins=STAGE_PLUGINS), **options)
    if init_cfg == "config":   # MASTER's config; without it, the class default (Xavier)
        cfg["init_cfg"] = [dict(type="Kaiming", layer="Conv2d"),
                           dict(type="Constant", val=1, layer="BatchNorm2d")]
    return cfg


def master(block_plugins, drop=0.0, init_cfg="config", n_layers=2):
    return dict(
        type="MASTER", backbone=backbone(block_plugins, init_cfg), encoder=None,
        decoder=dict(type="MasterDecoder", d_model=32, n_head=4, attn_drop=drop, ffn_drop=drop,
                     d_inner=48, n_layers=n_layers, feat_pe_drop=0.2, feat_size=2 * 10),
        loss=dict(type="TFLoss", reduction="mean"),
        label_convertor=dict(type="AttnConvertor", dict_type="DICT90", with_unknown=True,
                             max_seq_len=7),
        max_seq_len=7)


CASES = {
    # MASTER's own block plugin and init
    "config": master(dict(cfg=gca(), position="after_conv2")),
    # two heads, every fusion and pooling, plugins at every block position; MMOCR's default
    # Xavier init; dropout everywhere; three layers
    "variants": master([dict(cfg=gca(n_head=2, fusion_type="channel_mul", postfix="_a"),
                             position="before_conv1"),
                        dict(cfg=gca(pooling_type="avg", fusion_type="channel_concat",
                                     postfix="_b"), position="after_conv1"),
                        dict(cfg=gca(n_head=4, postfix="_c"), position="after_shortcut")],
                       drop=0.1, init_cfg=None, n_layers=3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_master_matches_mmocr(mmocr_ref, tmp_path, name):
    # widths 40, 24, 12 of a 40-wide batch; a text longer than max_seq_len loses its end token
    data = batch([40, 24, 12], ["Hello", "a~b", "a longer word"])
    check_recognizer(mmocr_ref, CASES[name], data, tmp_path)


def test_resnet_out_indices_matches_mmocr(mmocr_ref):
    cfg = backbone(dict(cfg=gca(n_head=2, pooling_type="avg", fusion_type="channel_mul"),
                        position="after_conv2"), out_indices=[1, 3],
                   strides=[(1, 1), (2, 1), (1, 1), (2, 2)])
    x = torch.randn(2, 3, 32, 40, generator=torch.Generator().manual_seed(1))
    theirs = mmocr_ref.call(REF, "backbone", cfg=cfg, seed=4, x=x)
    seed_all(4)
    net = build(COMPONENTS, cfg, "model.backbone")
    net.init_weights()
    assert_close(net.state_dict(), theirs["state"], rtol=0, atol=0, what="initial state")
    assert_close(net.train()(x), theirs["train_out"], what="train output")
    with torch.no_grad():
        assert_close(net.eval()(x), theirs["eval_out"], what="eval output")


def test_shipped_master_configs_match_mmocr(mmocr_ref):
    """The full-size models of the shipped configs: MMOCR's keys and shapes, and from one seed
    the same initial tensors (compared by exact per-tensor statistics); the files verbatim."""
    cfgs = [Config.fromfile(os.path.join(ROOT, "configs", name))["model"] for name in CONFIGS]
    assert_same_init_as_mmocr(mmocr_ref, cfgs[0], seed=5)
    assert cfgs[1] == cfgs[0]
    common = ref_file(os.path.join(ROOT, "tests", "parity", "x"), "mmocr_common.py")
    for name in [*CONFIGS, "_base_/recog_models/master.py",
                 "_base_/recog_pipelines/master_pipeline.py",
                 "_base_/recog_datasets/ST_SA_MJ_train.py",
                 "_base_/schedules/schedule_adam_step_12e.py"]:
        with open(os.path.join(ROOT, "configs", name), encoding="utf-8") as f:
            assert f.read() == mmocr_ref.call(common, "config_text", path=name), name


@pytest.mark.parametrize("change, message", [
    (dict(block_cfgs=dict(type="BasicBlock", plugins=dict(cfg=gca(n_head=3),
                                                          position="after_conv2"))),
     r"model.backbone.block_cfgs.plugins.cfg.n_head: expected a positive divisor of the "
     r"block's 16 channels \(got 3\)"),
    (dict(block_cfgs=dict(type="BasicBlock", plugins=[dict(cfg=gca(), position="after_conv2"),
                                                      dict(cfg=gca(fusion_type="sum"),
                                                           position="after_conv1")])),
     r"model.backbone.block_cfgs.plugins.1.cfg.fusion_type: expected one of"),
    (dict(block_cfgs=dict(type="Bottleneck")),
     r"model.backbone.block_cfgs: expected dict\(type='BasicBlock', ...\)"),
    (dict(plugins=[dict(STAGE_PLUGINS[0], stages=(True,))]),
     r"model.backbone.plugins.0.stages: expected 4 booleans, one per stage"),
    (dict(plugins=[dict(STAGE_PLUGINS[0], position="inside")]),
     r"model.backbone.plugins.0.position: expected 'before_stage' or 'after_stage'"),
    (dict(plugins=[dict(STAGE_PLUGINS[0], cfg=dict(type="Maxpool3d"))]),
     r"model.backbone.plugins.0.cfg.type: unknown 'Maxpool3d'"),
    (dict(strides=[1, 1, 1]), r"model.backbone: arch_layers, arch_channels and strides"),
])
def test_resnet_config_errors(change, message):
    cfg = dict(backbone(dict(cfg=gca(), position="after_conv2")), **change)
    with pytest.raises(UserError, match=message):
        build(COMPONENTS, cfg, "model.backbone")


def test_decoder_errors_and_feat_size():
    cfg = CASES["config"]
    with pytest.raises(UserError, match=r"model.decoder.n_head: expected a divisor of "
                                        r"d_model=32 \(got 5\)"):
        build(MODELS, dict(cfg, decoder=dict(cfg["decoder"], n_head=5)), "model")
    model = build(MODELS, dict(cfg, decoder=dict(cfg["decoder"], feat_size=8)), "model")
    with pytest.raises(UserError, match=r"model.decoder.feat_size: expected at least the 20 "
                                        r"positions \(H\*W\) of the backbone map \(got 8\)"):
        model(batch([40], ["ab"]))


def test_demo_config_fits_its_crops():
    """The narrow demo model (master_synth_cpu.py): its 32x128 crops give a 4x32 map, exactly
    the decoder's feat_size; one training step's loss is finite and greedy decoding returns
    max_seq_len steps of logits over DICT36, the start/end token and padding."""
    cfg = Config.fromfile(os.path.join(ROOT, "configs", "textrecog", "master",
                                       "master_synth_cpu.py"))
    seed_all(0)
    model = build(MODELS, copy.deepcopy(cfg["model"]), "model")
    model.init_weights()
    data = batch([128, 128], ["word", "demo"], height=32)
    assert model.backbone(data["img"]).shape[-2:] == (4, 32)
    assert 4 * 32 == cfg["model"]["decoder"]["feat_size"]
    loss = model(copy.deepcopy(data), return_loss=True)["loss_ce"]
    assert torch.isfinite(loss)
    model.eval()
    with torch.no_grad():
        out = model.decoder.forward_test(model.backbone(data["img"]), None)
    assert out.shape == (2, 12, 36 + 2)  # one start/end token (start_end_same), padding


def test_demo_config_initialises_as_mmocr(mmocr_ref):
    """The demo's decoder init_cfg (the token embedding N(0, 0.125^2), which takes it off the
    early plateau) is applied as MMOCR applies it: the same initial tensors from one seed, and
    the embedding, scaled by sqrt(d_model) = 8, starts at unit scale (torch's default: 8)."""
    cfg = Config.fromfile(os.path.join(ROOT, "configs", "textrecog", "master",
                                       "master_synth_cpu.py"))["model"]
    assert cfg["decoder"]["init_cfg"] == dict(type="Normal", std=0.125, layer="Embedding")
    ours = assert_same_init_as_mmocr(mmocr_ref, cfg, seed=5)
    shape, mean, std, _ = ours["decoder.embedding.lut.weight"]
    assert shape == (38, 64) and abs(mean) < 0.02 and 0.11 < std < 0.14

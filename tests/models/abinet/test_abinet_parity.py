"""ABINet against MMOCR 0.6.3's own code: ResNetABI + ABIVisionModel (transformer encoder,
position attention) + ABILanguageDecoder + ABIFuser with iterative correction, ABILoss and
ABIConvertor. A narrow model (every option path: vision only, iter_size 1 and 3, self
attention in the language model, tokens not detached) is built from one seed on both sides,
trained one step with dropout on and run in test mode; the shipped configs' full models are
compared by keys, shapes and seeded initialisation."""
import copy
import logging
import os
import sys

import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model, load_weights
from ocr_ds.registry import COMPONENTS, build
from parity import assert_close, assert_close_by_norm, assert_same_keys, ref_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import assert_same_init_as_mmocr, batch, seed_all  # noqa: E402

torch.set_num_threads(1)
REF = ref_file(__file__, "mmocr_abinet.py")
TEXTRECOG_REF = ref_file(__file__, os.path.join("..", "textrecog", "mmocr_textrecog.py"))
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIGS = ["textrecog/abinet/abinet_vision_only_academic.py",
           "textrecog/abinet/abinet_academic.py"]
NUM_CHARS, MAX_LEN, D = 37, 8, 32


def abinet(vision_only=False, iter_size=3, use_self_attn=False, detach_tokens=True):
    """MMOCR's ABINet config, narrowed: a 3-stage ResNetABI of 8/16/32 channels on 32x128
    images gives the 8x32 map of the full model."""
    model = dict(
        type="ABINet",
        backbone=dict(type="ResNetABI", stem_channels=8, base_channels=8,
                      arch_settings=[1, 2, 1], strides=[2, 1, 2]),
        encoder=dict(type="ABIVisionModel",
                     encoder=dict(type="TransformerEncoder", n_layers=2, n_head=4, d_model=D,
                                  d_inner=64, dropout=0.1, max_len=256),
                     decoder=dict(type="ABIVisionDecoder", in_channels=D, num_channels=8,
                                  attn_height=8, attn_width=32, attn_mode="nearest",
                                  use_result="feature", num_chars=NUM_CHARS,
                                  max_seq_len=MAX_LEN, init_cfg=dict(type="Xavier",
                                                                     layer="Conv2d"))),
        loss=dict(type="ABILoss", enc_weight=1.0, dec_weight=0.5, fusion_weight=2.0,
                  num_classes=NUM_CHARS),
        label_convertor=dict(type="ABIConvertor", dict_type="DICT36", with_unknown=False,
                             with_padding=False, lower=True, max_seq_len=MAX_LEN),
        max_seq_len=MAX_LEN, iter_size=iter_size)
    if not vision_only:
        model["decoder"] = dict(type="ABILanguageDecoder", d_model=D, n_head=4, d_inner=64,
                                n_layers=2, dropout=0.1, detach_tokens=detach_tokens,
                                use_self_attn=use_self_attn, pad_idx=NUM_CHARS - 1,
                                num_chars=NUM_CHARS, max_seq_len=MAX_LEN, init_cfg=None)
        model["fuser"] = dict(type="ABIFuser", d_model=D, num_chars=NUM_CHARS, init_cfg=None,
                              max_seq_len=MAX_LEN)
    return model


CASES = {
    "vision only": abinet(vision_only=True, iter_size=1),
    "iter 3": abinet(),
    "iter 1, self-attention, tokens not detached": abinet(iter_size=1, use_self_attn=True,
                                                          detach_tokens=False),
}


def _capture(model):
    seen = dict(enc=[], dec=[], fuser=[])

    def keep(name):
        return lambda m, a, out: seen[name].append({k: v.detach().clone()
                                                    for k, v in out.items()})
    model.encoder.register_forward_hook(keep("enc"))
    if model.decoder is not None:
        model.decoder.register_forward_hook(keep("dec"))
    if model.fuser is not None:
        model.fuser.register_forward_hook(keep("fuser"))
    return seen


@pytest.mark.parametrize("name", list(CASES))
def test_abinet_matches_mmocr(mmocr_ref, tmp_path, name):
    cfg = CASES[name]
    # texts: upper case (lower=True), one longer than max_seq_len - 1 (cut, end token kept)
    data = batch([128, 128, 128], ["Hello", "ab", "abcdefghijkl"], height=32)
    ckpt = str(tmp_path / "mmocr.pth")
    theirs = mmocr_ref.call(REF, "abinet", model_cfg=cfg, seed=3, img=data["img"],
                            img_metas=data["img_metas"], train_seed=11, checkpoint=ckpt)
    seed_all(3)
    model = build_model(dict(model=copy.deepcopy(cfg)))
    seen = _capture(model)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert_same_keys(state, theirs["state"])
    assert_close(state, theirs["state"], rtol=0, atol=0, what="initial state")
    model.train()
    seed_all(11)
    losses = model(copy.deepcopy(data), return_loss=True)
    sum(losses.values()).backward()
    assert_close({k: v.detach() for k, v in losses.items()}, theirs["losses"], what="loss")
    assert_close(seen, theirs["train"], what="training outputs")
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert_close_by_norm(grads, theirs["grads"], what="grad")
    for v in seen.values():
        v.clear()
    model.eval()
    with torch.no_grad():
        results = model(copy.deepcopy(data), return_loss=False)
    assert_close(seen, theirs["test"], what="test outputs")
    assert [r["text"] for r in results] == theirs["texts"]
    assert_close([r["char_scores"] for r in results], theirs["scores"], what="scores")
    # MMOCR's checkpoint loads through --load-from with nothing missing or unexpected
    model = build_model(dict(model=copy.deepcopy(cfg)), init=False)
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("abinet-load")
    logger.addHandler(handler)
    load_weights(model, ckpt, logger)
    assert not [r for r in records if r.levelno >= logging.WARNING], [r.getMessage()
                                                                      for r in records]
    assert_close(model.state_dict(), theirs["state"], rtol=0, atol=0, what="loaded state")


def test_abi_convertor_matches_mmocr(mmocr_ref):
    cfg = dict(type="ABIConvertor", dict_type="DICT36", with_unknown=False,
               with_padding=False, lower=True, max_seq_len=6)
    texts = ["Ab1", "abcdefgh", "", "abcde", "abcdef", "abcd"]
    conv = build(COMPONENTS, cfg, "model.label_convertor")
    gen = torch.Generator().manual_seed(0)
    outputs = torch.rand(3, 6, conv.num_classes() - 1, generator=gen)
    outputs[0, 3, conv.end_idx] = 5.0
    outputs[1, 0, conv.end_idx] = 5.0
    theirs = mmocr_ref.call(TEXTRECOG_REF, "convertor", cfg=cfg, texts=texts, outputs=outputs)
    enc = conv.str2tensor(texts)
    indexes, scores = conv.tensor2idx(outputs)
    assert conv.idx2char == theirs["idx2char"] and conv.num_classes() == theirs["num_classes"]
    for key in ("start_idx", "end_idx", "padding_idx", "unknown_idx"):
        assert getattr(conv, key) == theirs[key], key
    assert_close(enc["targets"], theirs["targets"], rtol=0, atol=0, what="targets")
    assert_close(enc["padded_targets"], theirs["padded_targets"], rtol=0, atol=0)
    assert indexes == theirs["indexes"] and conv.idx2str(indexes) == theirs["texts"]
    assert_close(scores, theirs["scores"], what="scores")


def test_config_models_match_mmocr(mmocr_ref):
    """The shipped configs' full models: keys, shapes and every tensor's statistics after a
    seeded build and init_weights() (equal draws give equal sums)."""
    cfgs = [copy.deepcopy(Config.fromfile(os.path.join(ROOT, "configs", n))["model"])
            for n in CONFIGS]
    for name, cfg in zip(CONFIGS, cfgs):
        assert_same_init_as_mmocr(mmocr_ref, cfg, seed=1, what=name)

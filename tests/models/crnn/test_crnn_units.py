"""CRNN parts: backbone shape, CTC greedy decoding, convertor, loss, and the model contract."""
import math

import cv2
import numpy as np
import pytest
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.convertors.ctc import CTCConvertor
from ocr_ds.models.textrecog.crnn.decoder import CRNNDecoder
from ocr_ds.models.textrecog.crnn.vgg import VeryDeepVgg
from ocr_ds.models.textrecog.dictionary import Charset, load_chars
from ocr_ds.models.textrecog.losses.ctc import CTCLoss
from ocr_ds.registry import MODELS, build

torch.set_num_threads(1)

SMALL = dict(
    type="CRNNNet",
    backbone=dict(type="VeryDeepVgg", leaky_relu=False, input_channels=1,
                  channels=(4, 8, 8, 8, 16, 16, 16)),
    decoder=dict(type="CRNNDecoder", in_channels=16, rnn_flag=True, hidden_channels=8),
    loss=dict(type="CTCLoss"),
    label_convertor=dict(type="CTCConvertor", dict_type="DICT36", with_unknown=False, lower=True))


def test_very_deep_vgg_mmocr_shape_and_names():
    net = VeryDeepVgg(leaky_relu=False, input_channels=1)
    assert net(torch.zeros(1, 1, 32, 100)).shape == (1, 512, 1, 26)  # W/4 + 1
    keys = set(net.state_dict())
    assert {"cnn.conv0.weight", "cnn.batchnorm2.running_mean", "cnn.conv6.bias"} <= keys
    assert sum(p.numel() for p in net.parameters()) == 5_551_360  # MMOCR's VeryDeepVgg, grey
    all_bn = VeryDeepVgg(input_channels=1, channels=(4,) * 7, batchnorm=range(7))
    assert "cnn.batchnorm0.weight" in all_bn.state_dict()
    with pytest.raises(UserError, match="channels"):
        VeryDeepVgg(channels=(8, 8))


def test_crnn_decoder_shapes():
    dec = CRNNDecoder(in_channels=16, num_classes=5, rnn_flag=True, hidden_channels=8)
    assert dec(torch.zeros(2, 16, 1, 7)).shape == (2, 7, 5)
    assert {"decoder.0.rnn.weight_ih_l0", "decoder.1.embedding.weight"} <= set(dec.state_dict())
    conv = CRNNDecoder(in_channels=16, num_classes=5, rnn_flag=False)
    assert conv(torch.zeros(2, 16, 1, 7)).shape == (2, 7, 5)
    with pytest.raises(UserError, match="1 high"):
        dec(torch.zeros(2, 16, 2, 7))


def _logits(paths, num_classes, high=10.0):
    """Logits whose argmax follows ``paths`` (one list of class ids per sample)."""
    out = torch.zeros(len(paths), len(paths[0]), num_classes)
    for b, path in enumerate(paths):
        for t, cls in enumerate(path):
            out[b, t, cls] = high
    return out


def test_ctc_greedy_decoding():
    conv = CTCConvertor(dict_type="DICT36", with_unknown=False)
    a, b, c = (conv.char2idx[ch] for ch in "abc")
    # collapse repeats, drop blanks, a blank separates a true double letter
    logits = _logits([[a, a, 0, b, b, 0, b, c, c, 0], [0] * 10], conv.num_classes())
    indexes, scores = conv.tensor2idx(logits)
    assert conv.idx2str(indexes) == ["abbc", ""]
    p = math.exp(10) / (math.exp(10) + conv.num_classes() - 1)
    assert scores[0] == pytest.approx([p] * 4) and scores[1] == []
    # decoding stops at ceil(T * valid_ratio)
    indexes, _ = conv.tensor2idx(logits, [{"valid_ratio": 0.35}, {"valid_ratio": 1.0}])
    assert conv.idx2str(indexes) == ["ab", ""]


def test_convertor_dicts_and_unknown():
    conv = CTCConvertor(dict_type="DICT36", with_unknown=False, lower=True)
    assert conv.num_classes() == 37 and conv.idx2char[0] == "<BLK>"
    assert conv.str2idx(["Ab1"]) == [[11, 12, 2]]
    assert conv.str2idx(["a-b"]) == [[11, 12]]  # '-' is not in DICT36: dropped, warned once
    ukn = CTCConvertor(dict_type="DICT90")  # MMOCR's defaults: DICT90 + <UKN>
    assert ukn.num_classes() == 92 and ukn.str2idx(["\u00e9"]) == [[91]]
    assert CTCConvertor(dict_list=list("xy"), with_unknown=False).idx2char == ["<BLK>", "x", "y"]
    targets = conv.str2tensor(["ab", "c"])
    assert targets["flatten_targets"].tolist() == [11, 12, 13]
    assert targets["target_lengths"].tolist() == [2, 1]
    with pytest.raises(UserError, match="dict_type"):
        CTCConvertor(dict_type="DICT99")
    with pytest.raises(UserError, match="duplicated"):
        load_chars(dict_list=["a", "a"])


def test_charset_spec():
    assert Charset.from_spec("DICT36").unknown("Ab-") == ["-", "A"]
    lower = Charset.from_spec(dict(type="CTCConvertor", dict_type="DICT36", with_unknown=False,
                                   lower=True))
    assert lower.unknown("Ab") == [] and lower.unknown("a b") == [" "]
    assert Charset.from_spec(dict(dict_type="DICT36")).unknown("\u00e9") == []  # with_unknown


def test_ctc_loss_flatten_and_padded():
    logits = torch.randn(2, 10, 5, requires_grad=True)
    targets = {"targets": [torch.tensor([1, 2]), torch.tensor([3])],
               "flatten_targets": torch.tensor([1, 2, 3]),
               "target_lengths": torch.tensor([2, 1])}
    flat = CTCLoss()(logits, targets)["loss_ctc"]
    padded = CTCLoss(flatten=False)(logits, targets)["loss_ctc"]
    assert flat.item() == pytest.approx(padded.item(), rel=1e-5)
    flat.backward()
    assert logits.grad is not None
    # padded targets use ceil(valid_ratio * T) input steps
    short = CTCLoss(flatten=False)(logits, targets, [{"valid_ratio": 0.5}, {"valid_ratio": 1.0}])
    assert short["loss_ctc"].item() != pytest.approx(padded.item())
    # bf16 logits are computed in fp32
    assert CTCLoss()(logits.detach().bfloat16(), targets)["loss_ctc"].dtype == torch.float32


def test_crnn_train_and_test_forward():
    torch.manual_seed(0)
    model = build(MODELS, SMALL, "model")
    batch = {"img": torch.randn(2, 1, 32, 40),
             "img_metas": [{"text": "ab1", "resize_shape": (32, 40)},
                           {"text": "Hi", "resize_shape": (32, 20)}]}
    losses = model(batch)
    assert set(losses) == {"loss_ctc"} and losses["loss_ctc"].ndim == 0
    losses["loss_ctc"].backward()
    model.eval()
    out = model(batch, return_loss=False)
    assert len(out) == 2 and all(set(o) == {"text", "score", "char_scores"} for o in out)
    assert all(isinstance(o["text"], str) and isinstance(o["score"], float) for o in out)
    assert batch["img_metas"][1] == {"text": "Hi", "resize_shape": (32, 20)}  # not mutated


def _crop(text):
    img = np.zeros((32, 48), np.uint8)
    cv2.putText(img, text, (2, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 255, 2)
    return torch.from_numpy(img).float().div(127).sub(1)[None]


def test_crnn_learns_three_words():
    # the conv decoder leaves CTC's all-blank plateau in a few steps (the LSTM one takes ~300)
    torch.manual_seed(0)
    cfg = {**SMALL, "decoder": dict(type="CRNNDecoder", in_channels=16, rnn_flag=False)}
    model = build(MODELS, cfg, "model")
    model.init_weights()                # as the engine does (MMOCR's effective init)
    texts = ["ab", "ba", "aab"]
    batch = {"img": torch.stack([_crop(t) for t in texts]),
             "img_metas": [{"text": t, "resize_shape": (32, 48)} for t in texts]}
    opt = torch.optim.Adam(model.parameters(), 0.01)
    for _ in range(90):
        loss = model(batch)["loss_ctc"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    out = model(batch, return_loss=False)
    assert [r["text"] for r in out] == texts
    assert all(0.5 < r["score"] <= 1.0 and len(r["char_scores"]) == len(r["text"]) for r in out)


def test_crnn_config_errors():
    with pytest.raises(UserError, match="model.encoder"):
        build(MODELS, {**SMALL, "encoder": dict(type="X")}, "model")
    with pytest.raises(UserError, match=r"model\.backbone\.type"):
        build(MODELS, {**SMALL, "backbone": dict(type="NoNet")}, "model")
    with pytest.raises(UserError, match="Collect.meta_keys"):
        build(MODELS, SMALL, "model")({"img": torch.zeros(1, 1, 32, 8), "img_metas": [{}]})

"""The encoder-decoder recognisers as the engine and the tools use them: the model contract,
half precision, config errors, the dictionary tool."""
import copy

import pytest
import torch

from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.convertors.attn import AttnConvertor
from ocr_ds.registry import MODELS, build
from ocr_ds.tools.build_dict import main as build_dict

torch.set_num_threads(1)

BACKBONE = dict(type="ResNet31OCR", layers=[1, 1, 1, 1], channels=[8, 16, 16, 16, 32, 32, 32])
SAR = dict(
    type="SARNet", backbone=BACKBONE,
    encoder=dict(type="SAREncoder", d_model=32, d_enc=16, enc_do_rnn=0.1),
    decoder=dict(type="ParallelSARDecoder", d_model=32, d_enc=16, d_k=8, pred_concat=True),
    loss=dict(type="SARLoss"),
    label_convertor=dict(type="AttnConvertor", dict_type="DICT36", with_unknown=False),
    max_seq_len=6)
ROBUST = dict(
    type="RobustScanner", backbone=BACKBONE,
    encoder=dict(type="ChannelReductionEncoder", in_channels=32, out_channels=16),
    decoder=dict(type="RobustScannerDecoder", dim_input=32, dim_model=16,
                 hybrid_decoder=dict(type="SequenceAttentionDecoder"),
                 position_decoder=dict(type="PositionAttentionDecoder")),
    loss=dict(type="SARLoss"),
    # more classes than bf16 holds exactly as integers (start_idx 301)
    label_convertor=dict(type="AttnConvertor", dict_list=[chr(0x4e00 + i) for i in range(300)]),
    max_seq_len=6)


def _batch(texts=("abc", "de"), dtype=torch.float32):
    img = torch.randn(2, 3, 16, 40, generator=torch.Generator().manual_seed(0)).to(dtype)
    metas = [dict(resize_shape=(16, 40, 3), text=texts[0]),
             dict(resize_shape=(16, 20, 3), text=texts[1])]
    return dict(img=img, img_metas=metas)


@pytest.mark.parametrize("cfg", [SAR, ROBUST], ids=["sar", "robust_scanner"])
def test_model_contract(cfg):
    torch.manual_seed(0)
    model = build(MODELS, cfg, "model")
    model.init_weights()
    batch = _batch()
    losses = model(batch)
    assert list(losses) == ["loss_ce"] and losses["loss_ce"].ndim == 0
    assert "valid_ratio" not in batch["img_metas"][0]  # the batch is left as it was
    model.eval()
    with torch.no_grad():
        results = model(batch, return_loss=False)
    assert len(results) == 2
    for r in results:
        assert set(r) == {"text", "score", "char_scores"} and isinstance(r["text"], str)
        assert len(r["char_scores"]) <= 6
        assert r["score"] == pytest.approx(sum(r["char_scores"]) / max(1, len(r["text"])))


@pytest.mark.parametrize("cfg", [SAR, ROBUST], ids=["sar", "robust_scanner"])
def test_bf16_training_and_decoding(cfg):
    """What the engine runs with ``bf16.enabled``: the module and its inputs in bfloat16."""
    torch.manual_seed(0)
    ref = build(MODELS, cfg, "model")
    model = copy.deepcopy(ref).to(torch.bfloat16)
    texts = ("abc", "de") if cfg is SAR else (chr(0x4e00) * 3, chr(0x4e01))
    loss = model(_batch(texts, torch.bfloat16))["loss_ce"]
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    ref_loss = ref(_batch(texts))["loss_ce"]
    assert abs(loss.item() - ref_loss.item()) < 0.05 * ref_loss.item()
    tokens = []
    embedding = model.decoder.hybrid_decoder.embedding if cfg is ROBUST else model.decoder.embedding
    embedding.register_forward_hook(lambda m, i, o: tokens.append(i[0].flatten()[0].item()))
    with torch.no_grad():
        out = model.eval()(_batch(texts, torch.bfloat16), return_loss=False)
    assert all(isinstance(r["text"], str) for r in out)
    # decoding starts from the start token exactly (301 is not a bfloat16 number)
    assert tokens[0] == model.label_convertor.start_idx


def test_training_without_texts_says_what_to_add():
    model = build(MODELS, SAR, "model")
    batch = _batch()
    del batch["img_metas"][1]["text"]
    with pytest.raises(UserError, match=r"SARNet: training samples need 'text' in img_metas; "
                                        r"add 'text' to Collect.meta_keys"):
        model(batch)


@pytest.mark.parametrize("change, message", [
    (dict(encoder=dict(type="SAREncoder", enc_do_rnn=1.5)),
     r"model.encoder.enc_do_rnn: expected a probability in \[0, 1\) \(got 1.5\)"),
    (dict(decoder=dict(type="ParallelSARDecoder", pred_concat="yes")),
     r"model.decoder.pred_concat: expected True or False \(got 'yes'\)"),
    (dict(decoder=None), r"model.decoder: expected a dict with a 'type' key \(got None\)"),
    (dict(decoder=dict(type="NoSuchDecoder")), r"model.decoder.type: unknown 'NoSuchDecoder'"),
    (dict(max_seq_len=0), r"model.max_seq_len: expected a positive integer \(got 0\)"),
    (dict(backbone=dict(type="ResNet31OCR", layers=[1, 1])),
     r"model.backbone.layers: expected a list of 4 integers \(got \[1, 1\]\)"),
    (dict(label_convertor=dict(type="AttnConvertor", lower="no")),
     r"model.label_convertor.lower: expected True or False \(got 'no'\)"),
])
def test_config_errors_name_the_key(change, message):
    with pytest.raises(UserError, match=message):
        build(MODELS, dict(SAR, **change), "model")


def test_robust_scanner_config_errors_name_the_key():
    bad = copy.deepcopy(ROBUST)
    bad["decoder"]["hybrid_decoder"]["dim_modell"] = 8
    with pytest.raises(UserError, match=r"^model.decoder.hybrid_decoder.dim_modell: not an argument "
                                        r"of SequenceAttentionDecoder; expected some of: "):
        build(MODELS, bad, "model")


def test_pipeline_errors_name_the_step():
    with pytest.raises(UserError, match=r"^pipeline.0.padding_mode: expected one of \['constant', "
                                        r"'edge', 'reflect', 'symmetric'\] \(got 'wrap'\)$"):
        Compose([dict(type="ResizeOCR", height=32, padding_mode="wrap")])
    with pytest.raises(UserError, match=r"^pipeline.0.rotate_degrees: expected multiples "
                                        r"of 90 in \[0, 360\) \(got \[0, 45\]\)"):
        Compose([dict(type="MultiRotateAugOCR", rotate_degrees=[0, 45], transforms=[])])


def test_build_dict_tool(tmp_path, capsys):
    (tmp_path / "a.txt").write_text("1.jpg 中文a\n2.jpg 文b\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"filename": "3.jpg", "text": "b c"}\n', encoding="utf-8")
    out = tmp_path / "dict.txt"
    assert build_dict([str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl"), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").split("\n")[:-1] == sorted(" abc中文")
    conv = AttnConvertor(dict_file=str(out), with_unknown=False)
    assert conv.idx2str(conv.str2idx(["中文 c"])) == ["中文 c"]
    assert "wrote 6 characters" in capsys.readouterr().out
    assert build_dict([str(tmp_path / "a.txt"), "-o", str(out), "--order", "first"]) == 0
    assert out.read_text(encoding="utf-8").split("\n")[:-1] == list("中文ab")


def test_pretrained_loads_the_whole_recogniser(tmp_path):
    torch.manual_seed(0)
    source = build(MODELS, SAR, "model")
    torch.save(source.state_dict(), tmp_path / "sar.pth")
    torch.manual_seed(1)
    model = build(MODELS, dict(SAR, pretrained=str(tmp_path / "sar.pth")), "model")
    model.init_weights()
    for k, v in source.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k

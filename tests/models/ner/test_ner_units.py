"""BERT NER in ocr_ds's own paths (no reference needed): NerDataset's bad lines, test.py and
eval_results on a tiny NER checkpoint (nested metrics, JSON predictions, --show-dir refused),
the Pretrained https URL through torch hub's cache, save_best's dotted metric keys."""
import json
import os

import pytest
import torch

from ocr_ds.errors import UserError, run_cli

CONFIG = """
categories = ['address', 'name']
vocab_file = '{vocab}'
max_len = 16
ner_convertor = dict(type='NerConvertor', annotation_type='bio', vocab_file=vocab_file,
                     categories=categories, max_len=max_len)
loader = dict(type='HardDiskLoader', repeat=1,
              parser=dict(type='LineJsonParser', keys=['text', 'label']))
pipeline = [dict(type='NerTransform', label_convertor=ner_convertor, max_len=max_len),
            dict(type='ToTensorNER')]
test = dict(type='NerDataset', ann_file='{ann}', loader=loader, pipeline=pipeline,
            test_mode=True)
data = dict(samples_per_gpu=2, workers_per_gpu=0, train=test, val=test, test=test)
evaluation = dict(interval=1, metric='f1-score')
model = dict(type='NerClassifier',
             encoder=dict(type='BertEncoder', num_hidden_layers=1, hidden_size=8,
                          num_attention_heads=2, intermediate_size=16, vocab_size=120,
                          max_position_embeddings=16),
             decoder=dict(type='FCDecoder', hidden_size=8),
             loss=dict(type='MaskedCrossEntropyLoss'), label_convertor=ner_convertor)
"""
LINES = [dict(text="北京张三", label={"address": {"北京": [[0, 1]]}, "name": {"张三": [[2, 3]]}}),
         dict(text="上海", label={}),
         dict(text="李四在北京", label={"name": {"李四": [[0, 1]]}})]


@pytest.fixture
def tiny(tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]"] + [f"[u{i}]" for i in range(1, 100)]
                               + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("北京上海张三李四在"))
                     + "\n", encoding="utf-8")
    ann = tmp_path / "dev.json"
    ann.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in LINES),
                   encoding="utf-8")
    config = tmp_path / "ner.py"
    config.write_text(CONFIG.format(vocab=vocab, ann=ann))
    from ocr_ds.config import Config
    from ocr_ds.engine.builder import build_model

    torch.manual_seed(0)
    model = build_model(Config.fromfile(str(config)))
    ckpt = tmp_path / "ner.pth"
    torch.save({"state_dict": model.state_dict()}, ckpt)
    return dict(config=str(config), ckpt=str(ckpt), ann=ann, vocab=str(vocab), model=model)


def test_test_py_and_eval_results(tiny, tmp_path, monkeypatch, capsys):
    from ocr_ds.test import parse_args, run
    from ocr_ds.tools.eval_results import main as eval_results

    monkeypatch.chdir(tmp_path)
    out = tmp_path / "preds.json"
    metrics = run(parse_args([tiny["config"], tiny["ckpt"], "--eval", "f1-score", "--out",
                              str(out)]))
    stdout = capsys.readouterr().out
    printed = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    assert " sample/s, " in stdout and " img/s" not in stdout, stdout  # texts, not images
    preds = json.loads(out.read_text())
    assert isinstance(preds, list) and len(preds) == 3
    assert all(isinstance(p, list) and all(len(e) == 3 for e in p) for p in preds)
    assert list(metrics) == ["address", "name", "all"]
    assert set(metrics["all"]) == {"precision", "recall", "f1-score"}
    assert printed == [str(metrics)]
    eval_results([tiny["config"], str(out), "--eval", "f1-score"])
    assert capsys.readouterr().out.strip() == str(metrics)
    # no image to draw on: refused before anything is written
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: run(parse_args([tiny["config"], tiny["ckpt"], "--show-dir",
                                        str(tmp_path / "pics")])))
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.startswith("error: --show-dir: data.test (NerDataset) "
                                                  "has no images"), err
    assert not (tmp_path / "pics").exists()


def test_vocabulary_larger_than_the_embedding_is_refused(tiny):
    from ocr_ds.config import Config
    from ocr_ds.engine.builder import build_model

    cfg = Config.fromfile(tiny["config"])
    cfg["model"]["encoder"]["vocab_size"] = 110
    with pytest.raises(UserError, match=r"model.encoder.vocab_size: expected at least 113, the "
                                        r"ids of label_convertor.vocab_file \(113 tokens\)"):
        build_model(cfg)


def test_dataset_bad_lines(tiny, tmp_path):
    from ocr_ds import registry

    ann = tmp_path / "train.json"
    ann.write_text("not json\n" + json.dumps(dict(text="上海", label={"movie": {"x": [[0, 0]]}}))
                   + "\n" + json.dumps(LINES[0], ensure_ascii=False) + "\n", encoding="utf-8")
    spec = json.loads(json.dumps(dict(
        type="NerDataset", ann_file=str(ann),
        loader=dict(type="HardDiskLoader", parser=dict(type="LineJsonParser",
                                                       keys=["text", "label"])),
        pipeline=[dict(type="NerTransform", max_len=16, label_convertor=dict(
            type="NerConvertor", vocab_file=tiny["vocab"], categories=["address", "name"],
            max_len=16)), dict(type="ToTensorNER")])))
    train = registry.build(registry.DATASETS, spec, "data.train")
    good = train[2]["img_metas"]["input_ids"]
    for i in (0, 1):   # skipped: the next usable line takes their place
        assert torch.equal(train[i]["img_metas"]["input_ids"], good)
    assert train.skipped.counts["malformed annotation"] == 2
    test = registry.build(registry.DATASETS, dict(spec, test_mode=True), "data.test")
    with pytest.raises(UserError, match=rf"{ann}:2: malformed annotation \(entity category "
                                        r"'movie' is not one of"):
        test[1]
    with pytest.raises(UserError, match="evaluation.metric: expected some of f1-score"):
        type(test).metric_keys("hmean-iou")
    assert type(test).metric_keys("f1-score") == ["all"]
    with pytest.raises(UserError, match="pipeline.0.max_len: expected the label_convertor's "
                                        "max_len, 16"):
        registry.build(registry.DATASETS, dict(spec, pipeline=[dict(spec["pipeline"][0],
                                                                    max_len=8)]), "x")


def test_pretrained_url_from_torch_hub_cache(tiny, tmp_path, monkeypatch):
    """As mmcv: an https checkpoint is torch hub's cached file, downloaded there when missing."""
    from ocr_ds.models.ner.encoder import BertEncoder

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    url = "https://download.openmmlab.com/mmocr/ner/bert_softmax/bert_pretrain.pth"
    source = tiny["model"].encoder.state_dict()
    fetched = []

    def download(u, dst, **kwargs):
        fetched.append(u)
        torch.save(source, dst)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    kwargs = dict(num_hidden_layers=1, hidden_size=8, num_attention_heads=2,
                  intermediate_size=16, vocab_size=120, max_position_embeddings=16,
                  init_cfg=dict(type="Pretrained", checkpoint=url))
    for _ in range(2):   # downloaded once, then read from the cache
        enc = BertEncoder(**kwargs)
        enc.init_weights()
        for k, v in source.items():
            assert torch.equal(enc.state_dict()[k], v), k
    assert fetched == [url]
    assert os.path.isfile(tmp_path / "th" / "hub" / "checkpoints" / "bert_pretrain.pth")

    def offline(u, dst, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(UserError, match=r"init_cfg.checkpoint: cannot download https://x/b.pth "
                                        r"\(OSError: no route to host\); expected the file in "
                                        r"torch hub's cache: put it at .*th/hub/checkpoints/b.pth"):
        BertEncoder(**dict(kwargs, init_cfg=dict(type="Pretrained",
                                                 checkpoint="https://x/b.pth"))).init_weights()


def test_nested_metrics_and_save_best_key():
    from ocr_ds.engine.evaluate import plain_metrics
    from ocr_ds.engine.hooks.evaluation import infer_rule, metric_value

    metrics = plain_metrics({"name": {"precision": torch.tensor(0.5), "recall": 1,
                                      "f1-score": 0.25}, "all": {"f1-score": 0.5}})
    assert metrics == {"name": {"precision": 0.5, "recall": 1.0, "f1-score": 0.25},
                       "all": {"f1-score": 0.5}}
    assert metric_value(metrics, "all.f1-score") == 0.5
    assert infer_rule("all.f1-score") == "greater"
    with pytest.raises(UserError, match=r"'name' is a group of metrics \(precision, recall, "
                                        r"f1-score\); name one, e.g. 'name.precision'"):
        metric_value(metrics, "name")
    with pytest.raises(UserError, match="'all.acc' is not among the metrics"):
        metric_value(metrics, "all.acc")


GROUP = ("is a group of metrics (precision, recall, f1-score) per category; name one number, "
         "e.g. 'all.f1-score'")


@pytest.mark.parametrize("save_best,problem", [
    ("auto", f"the first metric, which {GROUP} (got 'auto')"),
    ("all", f"'all' {GROUP} (got 'all')"),
    ("all.acc", f"'all.acc' {GROUP} (got 'all.acc')"),
    ("name.f1-score", "expected 'auto' or one of the metrics all (got 'name.f1-score')"),
    ("all.f1-score", None)])
def test_save_best_on_grouped_metrics_is_checked_before_training(tiny, save_best, problem):
    """MMOCR's NER metrics are per-category groups: 'auto' (the first metric) or a group name
    would fail at the first evaluation, hours in; the config check says so before training."""
    from ocr_ds.config import Config
    from ocr_ds.config.check import check_config

    cfg = Config.fromfile(tiny["config"])
    cfg.merge_from_dict({"evaluation.save_best": save_best, "evaluation.rule": "greater"})
    found = [p for p in check_config(cfg, mode="train") if "save_best" in p]
    assert found == ([f"evaluation.save_best: {problem}"] if problem else []), found

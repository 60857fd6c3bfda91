"""BERT NER against MMOCR 0.6.3's own code, on a tiny BERT (2 layers, 16 wide) and a vocabulary
file both sides read: module names and shapes (also of the CLUENER config's full-size model),
MMOCR's checkpoint through --load-from's loader (0 missing, 0 unexpected), the initial weights
from a seed (bit-identical: BERT's own init runs at construction and again in init_weights, as
MMOCR's), a ``Pretrained`` encoder file, train losses (dropout on) and gradients, eval logits,
labels and entities; the convertor, tokenizer and pipeline on the same texts (unknown and
upper-case characters, a text of exactly max_len - 2, over-long and empty texts, empty labels);
and ``eval_ner_f1`` on hand-made and seeded predictions."""
import copy
import os
import random
import sys

import pytest
import torch

from ocr_ds.engine.builder import build_model
from ocr_ds.models.ner.convertor import NerConvertor
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.datasets.collate import collate
from ocr_ds.metrics.ner_metric import eval_ner_f1
from parity import assert_close, assert_same_keys, ref_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import assert_checkpoint_loads  # noqa: E402

torch.set_num_threads(1)
REF = ref_file(__file__, "mmocr_ner.py")
CATEGORIES = ["address", "book", "name"]
CHARS = list("北京上海天安门张三李四的书在和abcdefg0123")
MAX_LEN = 16


def write_vocab(path):
    """BERT's layout: [PAD], 99 unused, [UNK] (100), [CLS], [SEP], [MASK], then the tokens."""
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(1, 100)] + ["[UNK]", "[CLS]", "[SEP]",
                                                                     "[MASK]"] + CHARS
    path.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return str(path)


def convertor_cfg(vocab):
    return dict(type="NerConvertor", annotation_type="bio", vocab_file=vocab,
                categories=CATEGORIES, max_len=MAX_LEN)


def tiny_model(vocab, loss="MaskedCrossEntropyLoss", init_cfg=None):
    encoder = dict(type="BertEncoder", num_hidden_layers=2, hidden_size=16,
                   num_attention_heads=2, intermediate_size=32, vocab_size=110 + len(CHARS),
                   max_position_embeddings=32)
    if init_cfg is not None:
        encoder["init_cfg"] = init_cfg
    return dict(type="NerClassifier", encoder=encoder, decoder=dict(type="FCDecoder",
                                                                     hidden_size=16),
                loss=dict(type=loss), label_convertor=convertor_cfg(vocab))


SAMPLES = [
    dict(text="张三在北京天安门", label={"name": {"张三": [[0, 1]]},
                                    "address": {"北京天安门": [[3, 7]]}}),
    dict(text="李四的书ABC在上海", label={"book": {"ABC": [[4, 6]]}, "address": {"上海": [[8, 9]]}}),
    dict(text="xyz张三?", label={}),
    dict(text="上海", label={"address": {"上海": [[0, 1]]}}),
]


def test_model_equals_mmocr(mmocr_ref, mmocr_configs, tmp_path):
    vocab = write_vocab(tmp_path / "vocab.txt")
    model_cfg = tiny_model(vocab)
    ckpt, pre = str(tmp_path / "mmocr.pth"), str(tmp_path / "bert_pretrain.pth")
    theirs = mmocr_ref.call(REF, "model_run", model_cfg=model_cfg, samples=SAMPLES, seed=3,
                            checkpoint=ckpt, pretrained=pre,
                            config_cfg=dict(path="ner/bert_softmax/bert_softmax_cluener_18e.py",
                                            vocab_file=vocab))
    # the full-size CLUENER model: the same names and shapes (built without its init)
    from ocr_ds.config import Config
    cfg = Config.fromfile(os.path.join(mmocr_configs, "ner/bert_softmax/"
                                       "bert_softmax_cluener_18e.py")).to_dict()
    cfg["model"]["label_convertor"]["vocab_file"] = vocab
    with torch.device("meta"):
        full = build_model(cfg, init=False)
    assert_same_keys(full.state_dict(), {k: torch.empty(v, device="meta")
                                         for k, v in theirs["full_shapes"].items()})
    assert {k: list(v.shape) for k, v in full.state_dict().items()} == theirs["full_shapes"]
    # initialisation from the seed: bit-identical
    torch.manual_seed(3)
    model = build_model(dict(model=model_cfg))
    assert_same_keys(model.state_dict(), theirs["state"])
    assert_close(model.state_dict(), theirs["state"], rtol=0, atol=0, what="initial state")
    # MMOCR's checkpoint through --load-from: 0 missing, 0 unexpected, equal
    assert_checkpoint_loads(model_cfg, ckpt, theirs["state"])
    # the encoder's Pretrained init_cfg reads the same weights (MMOCR's bert_pretrain.pth role)
    torch.manual_seed(5)
    pretrained = build_model(dict(model=tiny_model(vocab, init_cfg=dict(type="Pretrained",
                                                                          checkpoint=pre))))
    encoder_state = {k[len("encoder."):]: v for k, v in theirs["state"].items()
                     if k.startswith("encoder.")}
    assert_close(pretrained.encoder.state_dict(), encoder_state, rtol=0, atol=0,
                 what="Pretrained encoder")
    # our pipeline makes MMOCR's batch
    pipe = Compose([dict(type="NerTransform", label_convertor=convertor_cfg(vocab),
                         max_len=MAX_LEN), dict(type="ToTensorNER")])
    batch = collate([pipe(copy.deepcopy(s)) for s in SAMPLES])
    stacked = {k: torch.stack([m[k] for m in batch["img_metas"]]) for k in theirs["batch"]}
    assert_close(stacked, theirs["batch"], rtol=0, atol=0, what="batch")
    # train (dropout on, the same torch seed): loss and gradients
    model.train()
    torch.manual_seed(4)
    losses = model(batch)
    assert_close(losses, theirs["losses"], what="train loss")
    losses["loss_cls"].backward()
    assert_close({k: p.grad for k, p in model.named_parameters() if p.grad is not None},
                 theirs["grads"], what="gradients")
    # eval: logits, arg-max labels, entities
    model.eval()
    with torch.no_grad():
        logits, preds = model.decoder(model.encoder(stacked))
    assert_close(logits, theirs["logits"], what="eval logits")
    assert preds == theirs["preds"]
    assert model(batch, return_loss=False) == theirs["entities"]
    focal = build_model(dict(model=tiny_model(vocab, loss="MaskedFocalLoss")), init=False).loss
    assert_close(focal(logits * 3, stacked)["loss_cls"], theirs["focal"], what="focal loss")


EDGE = [
    *SAMPLES,
    dict(text="ABCdef", label={"name": {"ABC": [[0, 2]]}}),           # upper case -> lower
    dict(text="天" * (MAX_LEN - 2), label={"address": {"天天": [[12, 13]]}}),  # exactly fits
    dict(text="天" * (MAX_LEN - 3), label={"address": {"天": [[12, 12]]}}),
    dict(text="上海" * 9, label={"address": {"上海": [[0, 1], [12, 13], [14, 15], [16, 17]]}}),
    dict(text="上" * (MAX_LEN - 1), label={"address": {"上上": [[13, 14]]}}),
    dict(text="", label={}),
    dict(text="张", label={"name": {"张": [[0, 0]]}}),
]


def cut(sample):
    """What ours computes for an over-long text: MMOCR's result on the text cut to max_len - 2,
    its entities cut there too."""
    n = MAX_LEN - 2
    label = {}
    for cat, ents in sample["label"].items():
        for name, places in ents.items():
            kept = [[a, min(b, n - 1)] for a, b in places if a < n]
            if kept:
                label.setdefault(cat, {})[name] = kept
    return dict(text=sample["text"][:n], label=label)


def test_convertor_and_pipeline_equal_mmocr(mmocr_ref, tmp_path):
    vocab = write_vocab(tmp_path / "vocab.txt")
    rng = random.Random(0)
    n = len(CATEGORIES)
    preds = [[rng.randrange(2 * n + 4) for _ in range(MAX_LEN)] for _ in range(40)]
    tags = {"O": 2 * n + 1, "B-a": 1, "I-a": 1 + n, "B-b": 2, "I-b": 2 + n}
    hand = [["O", "B-a", "I-a", "I-a", "O"], ["B-a", "I-b", "I-a", "B-a", "I-a"],
            ["I-a", "I-a", "B-b", "B-b", "I-b"], ["B-a"] * 5, ["O", "O", "O", "B-a", "I-a"],
            ["O", "O", "O", "O", "B-a"]]
    preds += [[2 * n + 2] + [tags[t] for t in row] + [2 * n + 3] + [0] * (MAX_LEN - 7)
              for row in hand]
    masks = torch.tensor([([1] * rng.randrange(2, MAX_LEN + 1) + [0] * MAX_LEN)[:MAX_LEN]
                          for _ in range(40)] + [[1] * 7 + [0] * (MAX_LEN - 7)] * len(hand))
    theirs = mmocr_ref.call(REF, "convert", convertor=convertor_cfg(vocab), samples=EDGE,
                            preds=preds, masks=masks)
    conv = NerConvertor(**{k: v for k, v in convertor_cfg(vocab).items() if k != "type"})
    assert conv.id2label == theirs["id2label"] and conv.num_labels == theirs["num_labels"]
    pipe = Compose([dict(type="NerTransform", label_convertor=convertor_cfg(vocab),
                         max_len=MAX_LEN), dict(type="ToTensorNER")])
    failed = {}
    for sample, ref in zip(EDGE, theirs["samples"]):
        if isinstance(ref, str):
            failed[sample["text"]] = ref
            continue
        assert conv.convert_text2id(sample["text"]) == ref["ids"], sample
        assert conv.convert_entity2label(sample["label"], len(sample["text"])) == ref["labels"]
        out = pipe(copy.deepcopy(sample))
        assert_close(out["img_metas"], ref["tensors"], rtol=0, atol=0, what=sample["text"])
        assert out["img"] == []
    # MMOCR fails on these; ours takes them (README: Differs)
    long_texts = [s for s in EDGE if len(s["text"]) > MAX_LEN - 2]
    assert failed == {**{s["text"]: "IndexError" for s in long_texts}, "": "UnboundLocalError"}
    fitted = dict(zip([s["text"] for s in EDGE], theirs["samples"]))["天" * (MAX_LEN - 2)]
    for sample in long_texts:  # = MMOCR's result on the text cut to max_len - 2
        short = cut(sample)
        want = conv.convert_entity2label(short["label"], len(short["text"]))
        assert conv.convert_text2id(sample["text"]) == conv.convert_text2id(short["text"])
        assert conv.convert_entity2label(sample["label"], len(sample["text"])) == want
        assert pipe(copy.deepcopy(sample))["img_metas"]["attention_masks"].tolist() == \
            fitted["transform"]["attention_mask"]
    empty = pipe(dict(text="", label={}))["img_metas"]
    assert empty["input_ids"][:3].tolist() == [101, 102, 0]
    assert empty["attention_masks"][:3].tolist() == [1, 1, 0]
    assert empty["labels"][:3].tolist() == [conv.ignore_id, conv.ignore_id, 0]
    # unknown characters are [UNK] (100)
    assert conv.convert_text2id("x?")[:4] == [101, 100, 100, 102]
    # predicted labels -> entities (seeded and hand-made; one-character entities dropped)
    assert conv.convert_pred2entities(preds, masks) == theirs["entities"]
    with pytest.raises(ValueError, match="'movie' is not one of"):
        conv.convert_entity2label({"movie": {"x": [[0, 0]]}}, 3)


def test_eval_ner_f1_equals_mmocr(mmocr_ref):
    rng = random.Random(1)
    cats = ["address", "name", "book"]

    def entities(k):
        return [[rng.choice(cats), a, a + rng.randrange(0, 3)]
                for a in rng.sample(range(20), k)]

    def gt(ents):
        label = {}
        for i, (cat, a, b) in enumerate(ents):
            label.setdefault(cat, {}).setdefault(f"e{i % 3}", []).append([a, b])
        return dict(text="x" * 25, label=label)

    cases = []
    for _ in range(6):   # seeded: predictions partly right
        gts = [entities(rng.randrange(0, 4)) for _ in range(8)]
        preds = [[e for e in g if rng.random() < 0.6] + entities(rng.randrange(0, 2))
                 for g in gts]
        cases.append((preds, [gt(g) for g in gts]))
    cases += [
        ([[]], [dict(text="ab", label={})]),                            # nothing at all
        ([[["name", 0, 1]]], [dict(text="ab", label={})]),              # found, no truth
        ([[]], [gt([["name", 0, 1]])]),                                 # truth, nothing found
        ([[["name", 0, 1]], [["book", 2, 3]]],
         [gt([["name", 0, 1]]), gt([["book", 2, 4], ["name", 0, 0]])]),
        ([[["name", 0, 1]]], [gt([["name", 0, 1]]), gt([])]),          # lengths differ
    ]
    theirs = mmocr_ref.call(REF, "f1", cases=cases)
    for (results, gt_infos), ref in zip(cases, theirs):
        if isinstance(ref, str):
            with pytest.raises(ValueError):
                eval_ner_f1(results, gt_infos)
            assert ref == "AssertionError"
            continue
        ours = eval_ner_f1(results, gt_infos)
        assert list(ours) == list(ref) and ours == ref

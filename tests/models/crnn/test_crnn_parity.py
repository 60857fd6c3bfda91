"""CRNN against MMOCR 0.6.3's own code: module tree and seeded initialisation (bit-identical),
loss and gradients in training, logits and decoded texts in testing, CTCConvertor's encoding
and decoding, CTCLoss's modes."""
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model
from ocr_ds.models.textrecog.convertors.ctc import CTCConvertor
from ocr_ds.models.textrecog.losses.ctc import CTCLoss
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_crnn.py")
SHIPPED = "configs/_base_/recog_models/crnn.py"


pytestmark = pytest.mark.usefixtures("one_thread")


def _batch(seed, width=64):
    gen = torch.Generator().manual_seed(seed)
    img = torch.randn(3, 1, 32, width, generator=gen)
    texts = ["Hello", "a", "world42"]
    metas = [dict(text=t, resize_shape=(32, w, 1), filename=f"{i}.jpg")
             for i, (t, w) in enumerate(zip(texts, (width, width // 2, 3 * width // 4)))]
    return img, metas


@pytest.mark.parametrize("decoder", [{}, dict(rnn_flag=False)], ids=["lstm", "conv"])
def test_crnn_init_train_and_test_equal_mmocr(mmocr_ref, decoder):
    img, metas = _batch(4)
    theirs = mmocr_ref.call(REF, "train_and_test", seed=11, img=img, img_metas=metas,
                            decoder=decoder)
    cfg = Config.fromfile(SHIPPED).to_dict()["model"]
    assert cfg == theirs["config"]
    cfg["decoder"].update(decoder)
    torch.manual_seed(11)
    model = build_model({"model": cfg})
    assert_same_keys(model.state_dict(), theirs["state"])
    # the same random numbers in the same order: Xavier convs, Uniform BN, torch's LSTMs
    assert_close(model.state_dict(), theirs["state"], rtol=0, atol=0, what="initial state")
    model.train()
    loss = model({"img": img, "img_metas": metas})["loss_ctc"]
    assert_close(loss, theirs["loss"], what="loss")
    loss.backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert_close(grads, theirs["grads"], rtol=1e-4, atol=1e-7, what="grad")
    model.eval()
    results = model({"img": img, "img_metas": metas}, return_loss=False)
    with torch.no_grad():
        logits = model.decoder(model.extract_feat(img))
    assert_close(logits, theirs["logits"], atol=1e-5 * float(theirs["logits"].abs().max()),
                 what="logits")
    assert [r["text"] for r in results] == [r["text"] for r in theirs["results"]]
    assert_close([r["char_scores"] for r in results], [r["score"] for r in theirs["results"]],
                 what="character scores")


def _logits(paths, num_classes, high=9.0, seed=0):
    """Noisy logits whose argmax follows ``paths`` (one list of class ids per sample)."""
    gen = torch.Generator().manual_seed(seed)
    out = torch.randn(len(paths), len(paths[0]), num_classes, generator=gen)
    for b, path in enumerate(paths):
        for t, cls in enumerate(path):
            out[b, t, cls] += high
    return out


CONVERTOR_CASES = [
    # repeats collapse, a blank separates a true double letter, decoding stops at
    # ceil(T * valid_ratio), an all-blank sample decodes to ''
    dict(args=dict(dict_type="DICT36", with_unknown=False, lower=True),
         texts=["Hello", "a", "world42"],
         logits=_logits([[11, 11, 0, 12, 12, 0, 12, 13, 13, 0], [0] * 10,
                         [20, 0, 20, 21, 22, 23, 0, 0, 24, 24]], 37),
         metas=[dict(valid_ratio=1.0), dict(valid_ratio=0.5), dict(valid_ratio=0.35)]),
    # MMOCR's default (DICT90 + <UKN>): unknown characters map to <UKN>
    dict(args=dict(), texts=["\u00e9t\u00e9", "A-b", ""],
         logits=_logits([[91, 91, 5, 0, 5], [0, 1, 2, 3, 4], [90, 90, 90, 0, 90]], 92, seed=1),
         metas=[dict(valid_ratio=0.9), dict(), dict(valid_ratio=1.0)]),
    dict(args=dict(dict_list=list("xyz "), with_unknown=False), texts=["x y", "zz"],
         logits=_logits([[1, 4, 2, 2], [3, 0, 3, 3]], 5, seed=2),
         metas=[dict(valid_ratio=1.0), dict(valid_ratio=1.0)]),
]


def test_convertor_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "convertor_cases", cases=CONVERTOR_CASES)
    for i, (case, ref) in enumerate(zip(CONVERTOR_CASES, theirs)):
        conv = CTCConvertor(**case["args"])
        assert conv.num_classes() == ref["num_classes"] and conv.idx2char == ref["idx2char"]
        enc = conv.str2tensor(case["texts"])
        assert [t.tolist() for t in enc["targets"]] == [t.tolist() for t in ref["targets"]]
        assert enc["flatten_targets"].tolist() == ref["flatten"].tolist()
        assert enc["target_lengths"].tolist() == ref["lengths"].tolist()
        idx, scores = conv.tensor2idx(case["logits"], case["metas"])
        assert idx == ref["indexes"] and conv.idx2str(idx) == ref["strings"], f"case {i}"
        assert_close(scores, ref["scores"], what=f"case {i} scores")
        top_idx, top_scores = conv.tensor2idx(case["logits"], case["metas"], topk=3,
                                              return_topk=True)
        assert top_idx == ref["top_idx"]
        assert_close(top_scores, ref["top_scores"], what=f"case {i} top-3 scores")
    assert theirs[0]["strings"] == ["abbc", "", "jjk"]


def test_ctc_loss_equal_mmocr(mmocr_ref):
    gen = torch.Generator().manual_seed(3)
    targets = {"targets": [torch.tensor([1, 2, 2]), torch.tensor([3]),
                           torch.tensor([4, 1, 4, 1, 4, 1, 4])],
               "flatten_targets": torch.tensor([1, 2, 2, 3, 4, 1, 4, 1, 4, 1, 4]),
               "target_lengths": torch.tensor([3, 1, 7])}
    metas = [dict(valid_ratio=1.0), dict(valid_ratio=0.25), dict(valid_ratio=0.6)]
    cases = [dict(args=args, logits=torch.randn(3, 8, 6, generator=gen), targets=targets,
                  metas=metas)
             for args in (dict(), dict(flatten=False), dict(reduction="sum"),
                          dict(flatten=False, reduction="none"),
                          dict(flatten=False, zero_infinity=True))]
    theirs = mmocr_ref.call(REF, "loss_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        logits = case["logits"].clone().requires_grad_(True)
        loss = CTCLoss(**case["args"])(logits, case["targets"], case["metas"])["loss_ctc"]
        loss.sum().backward()
        assert_close(loss, ref["loss"], what=f"case {i} loss")
        assert_close(logits.grad, ref["grad"], what=f"case {i} grad")

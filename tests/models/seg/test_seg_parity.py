"""SegOCR's model against MMOCR 0.6.3's own code: module tree (MMOCR's seg.py, keys and shapes
both ways), seeded initialisation (bit-identical), train logits/loss/gradients and test
logits/texts/scores on the same weights, an MMOCR-published checkpoint through --load-from;
SegConvertor's decoding (random and hand-made maps). The data side is in
test_seg_data_parity.py."""
import copy
import os
import sys

import numpy as np
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model
from ocr_ds.models.textrecog.convertors.seg import SegConvertor
from parity import assert_close, assert_same_keys, ref_file

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "textrecog"))
from textrecog_parity import assert_checkpoint_loads  # noqa: E402

REF = ref_file(__file__, "mmocr_seg.py")
SHIPPED = "configs/_base_/recog_models/seg.py"
CONV = dict(type="SegConvertor", dict_type="DICT36", with_unknown=True, lower=True)


pytestmark = pytest.mark.usefixtures("one_thread")


def narrow_cfg():
    """MMOCR's seg.py model, narrowed (same tree, fewer channels and blocks): fast to compare."""
    cfg = Config.fromfile(SHIPPED).to_dict()["model"]
    cfg["backbone"].update(layers=[1, 2, 2, 1], channels=[8, 16, 32, 32, 64, 64])
    cfg["neck"].update(in_channels=[32, 32, 64, 64], out_channels=16)
    cfg["head"].update(in_channels=16)
    return cfg


def seg_batch():
    gen = torch.Generator().manual_seed(5)
    img = torch.randn(2, 3, 32, 64, generator=gen)
    gt = torch.zeros(2, 3, 32, 64, dtype=torch.int32)
    gt[:, 0, 8:24, 4:20] = 1
    gt[0, 1, 10:22, 6:18] = 11
    gt[0, 1, 10:22, 24:36] = 37
    gt[1, 1, 8:20, 2:12] = 3
    gt[:, 2] = 1
    gt[1, :2, :, 48:] = 255  # right of a narrower crop: ignored
    gt[1, 2, :, 48:] = 0
    metas = [dict(resize_shape=(32, 64, 3), filename="0.png"),
             dict(resize_shape=(32, 48, 3), filename="1.png")]
    return img, metas, gt


def test_seg_recognizer_equals_mmocr(mmocr_ref, tmp_path):
    img, metas, gt = seg_batch()
    ckpt = str(tmp_path / "seg.pth")
    cfg = narrow_cfg()
    theirs = mmocr_ref.call(REF, "model_run", model_cfg=cfg, seed=7, img=img, img_metas=metas,
                            gt_kernels=gt, checkpoint=ckpt)
    # the shipped _base_ is MMOCR's; its full-size model has MMOCR's keys and shapes
    assert Config.fromfile(SHIPPED).to_dict()["model"] == theirs["config"]
    with torch.device("meta"):
        full = build_model(dict(model=theirs["config"]), init=False)
    assert_same_keys(full.state_dict(), {k: torch.empty(s, device="meta")
                                         for k, s in theirs["shapes"].items()})

    torch.manual_seed(7)
    np.random.seed(7)
    model = build_model(dict(model=copy.deepcopy(cfg)))
    assert_same_keys(model.state_dict(), theirs["state"])
    assert_close(model.state_dict(), theirs["state"], rtol=0, atol=0, what="initial state")
    outs = []
    model.head.register_forward_hook(lambda m, i, o: outs.append(o.detach().clone()))
    model.train()
    loss = model(dict(img=img, img_metas=metas, gt_kernels=gt))["loss_seg"]
    loss.backward()
    assert_close(outs[0], theirs["train_out"], what="train logits")
    assert_close(loss, theirs["losses"], what="loss")
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert_close(grads, theirs["grads"], rtol=1e-5, atol=1e-7, what="grad")
    model.eval()
    with torch.no_grad():
        results = model(dict(img=img, img_metas=metas), return_loss=False)
    assert_close(outs[1], theirs["test_out"], what="test logits")
    assert [r["text"] for r in results] == theirs["texts"]
    assert_close([r["char_scores"] for r in results], theirs["scores"], what="char scores")

    # MMOCR's published checkpoint: nothing missing, nothing unexpected, the same tensors
    assert_checkpoint_loads(cfg, ckpt, theirs["state"])


def _map(classes, h=24, w=40):
    """(C, H, W) scores whose argmax is the hand-made class map ``classes`` (H, W)."""
    gen = torch.Generator().manual_seed(int(classes.sum()) % 1000)
    out = torch.rand(38, h, w, generator=gen)
    out.scatter_(0, torch.as_tensor(classes, dtype=torch.long)[None], 5.0)
    return out


def _convertor_cases():
    empty = np.zeros((24, 40), np.int64)
    touching = empty.copy()
    touching[4:20, 2:10] = 11     # 'a'
    touching[4:20, 10:18] = 12    # 'b', touching 'a': one component, majority wins
    touching[4:20, 14:16] = 13
    touching[6:18, 24:30] = 37    # <UKN>: a score, no character
    touching[2:5, 33:37] = 5      # 12 pixels: under the 20-pixel threshold
    full = np.full((24, 40), 20)  # no background at all
    full[:, 20:] = 30
    tie = empty.copy()
    tie[5:15, 5:9] = 2            # 40 pixels of class 2, 40 of class 3: the lower wins
    tie[5:15, 9:13] = 3
    tie[3:21, 30:34] = 9          # right of valid_ratio 0.6 (col 25): never seen
    gen = torch.Generator().manual_seed(3)
    # blocks of random classes (half of them background) under noise that flips pixels
    grid = torch.randint(1, 39, (2, 4, 12), generator=gen)
    grid[torch.rand(2, 4, 12, generator=gen) < 0.5] = 0
    grid = grid.repeat_interleave(8, 1).repeat_interleave(8, 2)
    random = torch.randn(2, 39, 32, 96, generator=gen)
    random.scatter_add_(1, grid[:, None], torch.full((2, 1, 32, 96), 6.0))
    return [
        dict(output=torch.stack([_map(empty), _map(touching)]),
             metas=[dict(valid_ratio=1.0), dict(valid_ratio=1.0)]),
        dict(output=torch.stack([_map(full), _map(tie)]),
             metas=[dict(valid_ratio=1.0), dict(valid_ratio=0.6)]),
        # random maps: many components of mixed classes, ordered by centroid; the last one
        # has a channel beyond the classes, which MMOCR's count never sees
        dict(output=random[:, :38], metas=[dict(valid_ratio=1.0), dict(valid_ratio=0.5)]),
        dict(output=random, metas=[dict(valid_ratio=1.0), dict(valid_ratio=0.99)]),
    ]


def test_seg_convertor_equals_mmocr(mmocr_ref):
    cases = _convertor_cases()
    theirs = mmocr_ref.call(REF, "convertor_cases", cfg=CONV, cases=cases)
    conv = SegConvertor(**{k: v for k, v in CONV.items() if k != "type"})
    assert conv.idx2char == theirs["idx2char"] and conv.unknown_idx == theirs["unknown_idx"]
    assert conv.num_classes() == theirs["num_classes"] == 38
    for i, (case, ref) in enumerate(zip(cases, theirs["decoded"])):
        texts, scores = conv.tensor2str(case["output"], case["metas"])
        assert texts == ref["texts"], f"case {i}"
        assert_close(scores, ref["scores"], what=f"case {i} scores")
    assert theirs["decoded"][0]["texts"][0] == ""
    assert theirs["decoded"][0]["texts"][1] == "a"  # merged a/b component, <UKN> silent
    assert len(theirs["decoded"][0]["scores"][1]) == 2
    # no background: one component, half class 20, half 30; ties go to the lower class
    assert theirs["decoded"][1]["texts"] == ["j", "1"]
    assert sum(len(t) for t in theirs["decoded"][3]["texts"]) >= 3, theirs["decoded"][3]

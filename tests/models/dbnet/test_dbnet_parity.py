"""DBNet and DBNet++ against MMOCR 0.6.3's own code, built from the real config files.

Keys and shapes of the full-size models; for a narrowed copy (16-wide ResNet) from one seed:
the initial state (bit-identical), the losses and gradients of one train-mode step on the same
batch, the BN statistics after it, the head's maps in eval mode. Then DBLoss and
DBPostprocessor alone on hand-made maps, edge cases included.
"""
import copy
import os

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.errors import UserError
from parity import assert_close, assert_close_by_norm, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_dbnet.py")
ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..")
CONFIGS = ["textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py",
           "textdet/dbnet/dbnet_r50dcnv2_fpnc_1200e_icdar2015.py",
           "textdet/dbnetpp/dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py"]
TARGETS = ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask")


def model_cfg(config, narrow):
    """Our copy of the config's model dict, changed as the ref side changes MMOCR's."""
    cfg = copy.deepcopy(Config.fromfile(os.path.join(ROOT, "configs", config)).to_dict()["model"])
    cfg["backbone"]["init_cfg"] = None
    if narrow:
        cfg["backbone"]["base_channels"] = 16
        expansion = 4 if cfg["backbone"]["depth"] >= 50 else 1
        cfg["neck"]["in_channels"] = [16 * expansion * 2**i for i in range(4)]
        cfg["neck"].update(lateral_channels=32, out_channels=8)
        cfg["bbox_head"]["in_channels"] = 32
    return cfg


def targets(n, h, w, seed):
    """DB-like targets: a few text boxes (shrink), an ignored one, threshold maps."""
    rng = np.random.default_rng(seed)
    out = {k: [] for k in TARGETS}
    for _ in range(n):
        shrink = np.zeros((h, w), np.uint8)
        mask = np.ones((h, w), np.uint8)
        thr = np.full((h, w), 0.3, np.float32)
        thr_mask = np.zeros((h, w), np.uint8)
        for _ in range(3):
            y, x = rng.integers(0, h - 12), rng.integers(0, w - 20)
            shrink[y + 3:y + 9, x + 3:x + 17] = 1
            thr[y:y + 12, x:x + 20] = rng.uniform(0.3, 0.7, (12, 20))
            thr_mask[y:y + 12, x:x + 20] = 1
        y, x = rng.integers(0, h - 8), rng.integers(0, w - 8)
        mask[y:y + 8, x:x + 8] = 0                            # a '###' region
        for k, v in zip(TARGETS, (shrink, mask, thr, thr_mask)):
            out[k].append(torch.from_numpy(v))
    return {k: torch.stack(v) for k, v in out.items()}


def test_full_size_models_have_mmocr_keys_and_shapes(mmocr_ref):
    for config in CONFIGS:
        theirs = mmocr_ref.call(REF, "shapes", config=config)
        ours = registry.build(registry.MODELS, model_cfg(config, narrow=False), "model")
        assert_same_keys(ours.state_dict(), {k: torch.empty(s) for k, s in theirs.items()})


@pytest.mark.parametrize("config", CONFIGS, ids=["r18", "r50dcnv2", "dbnetpp_r50dcnv2"])
def test_model_init_losses_grads_and_maps_equal_mmocr(mmocr_ref, config, monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    g = torch.Generator().manual_seed(1)
    batch = dict(img=torch.randn(2, 3, 64, 64, generator=g), **targets(2, 64, 64, seed=2))
    theirs = mmocr_ref.call(REF, "run_model", config=config, seed=3, batch=batch)
    torch.manual_seed(3)
    model = registry.build(registry.MODELS, model_cfg(config, narrow=True), "model")
    model.init_weights()
    init = {k: v.clone() for k, v in model.state_dict().items()}
    assert_same_keys(init, theirs["init"])
    assert_close(init, theirs["init"], rtol=0, atol=0, what="initial state")
    losses = model.train()(dict(batch, img_metas=[{}, {}]))
    assert_close(losses, theirs["losses"], what="losses")
    sum(losses.values()).backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    # DBNet++ at its initial point is ill-conditioned: a 1e-6 relative change of the input
    # image alone moves its gradients by ~5e-5 (the BN backward in the head and the ASF
    # attention cancel large terms), so 1e-5 is below what the model itself resolves there
    rtol = 1e-4 if "dbnetpp" in config else 1e-5
    assert_close_by_norm(grads, theirs["grads"], rtol=rtol, what="grads")
    assert_close(model.state_dict(), theirs["state"], what="state after the step")
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(batch["img"]))
    assert_close(maps, theirs["maps"], what="eval maps")


def _loss_cases():
    g = torch.Generator().manual_seed(5)
    t = targets(2, 24, 32, seed=6)
    probs = torch.rand(2, 3, 24, 32, generator=g) * 0.98 + 0.01
    cases = [dict(preds=probs, args=dict(alpha=5.0, beta=10.0, bbce_loss=True), **t),
             dict(preds=probs, args=dict(), **t),                       # dice for loss_prob
             dict(preds=probs, args=dict(bbce_loss=True, negative_ratio=0.5, eps=1e-3), **t)]
    empty = {k: v.clone() for k, v in t.items()}
    empty["gt_shrink"].zero_()                                       # no positives at all
    cases.append(dict(preds=probs, args=dict(bbce_loss=True), **empty))
    saturated = probs.clone()
    saturated[:, 0, :4] = 1.0                                        # BCE's log clamp
    saturated[:, 0, 4:8] = 0.0
    cases.append(dict(preds=saturated, args=dict(alpha=5.0, beta=10.0, bbce_loss=True), **t))
    return cases


def _maps():
    """Hand-made probability maps: boxes, rotated and concave shapes, touching and tiny ones,
    regions on the border, and a C shape whose unclip closes into a ring (two paths)."""
    a = np.zeros((96, 128), np.float32)
    cv2.fillPoly(a, [np.array([[10, 10], [60, 12], [58, 30], [9, 28]])], 0.8)
    cv2.fillPoly(a, [cv2.boxPoints(((90, 60), (50, 14), 25)).astype(np.int32)], 0.65)
    cv2.fillPoly(a, [np.array([[5, 50], [40, 50], [40, 80], [30, 80], [30, 60], [5, 60]])],
                 0.5)
    a[85:96, 60:128] = 0.9                                           # on the border
    a[40:42, 60:63] = 0.95                                           # tiny
    a[5:20, 100:110] = 0.25                                          # under mask_thr
    a[5:20, 112:122] = 0.35                                          # under min_text_score 0.4
    b = np.zeros((80, 80), np.float32)
    b[10:30, 10:70] = 0.7
    b[31:50, 10:70] = 0.7                                            # touching (1 px apart)
    ring = np.zeros((120, 160), np.float32)
    cv2.circle(ring, (80, 60), 40, 0.9, thickness=14)
    ring[55:65, 110:130] = 0                                         # a C with a narrow gap
    return [torch.from_numpy(np.stack([m, m * 0.5, m])) for m in (a, b, ring)]


def _post_cases():
    a, b, _ = _maps()
    return [dict(maps=m, args=args) for m in (a, b) for args in (
        dict(text_repr_type="quad"), dict(text_repr_type="poly"),
        dict(text_repr_type="quad", epsilon_ratio=0.002),            # DBNet++'s
        dict(text_repr_type="poly", mask_thr=0.6, min_text_score=0.4, unclip_ratio=2.0),
        dict(text_repr_type="quad", min_text_width=12, max_candidates=1))]


def test_loss_and_postprocessor_equal_mmocr(mmocr_ref):
    loss_cases, post_cases = _loss_cases(), _post_cases()
    their_losses = mmocr_ref.call(REF, "run_loss", cases=loss_cases)
    their_boundaries = mmocr_ref.call(REF, "run_postprocess", cases=post_cases)
    for i, (case, ref) in enumerate(zip(loss_cases, their_losses)):
        preds = case["preds"].clone().requires_grad_(True)
        loss = registry.build(registry.COMPONENTS, dict(type="DBLoss", **case["args"]), "loss")(
            preds, 1.0, **{k: case[k] for k in TARGETS})
        sum(loss.values()).backward()
        assert_close(loss, ref["loss"], what=f"loss case {i}")
        assert_close(preds.grad, ref["grad"], what=f"loss case {i}: grad")
    for i, (case, ref) in enumerate(zip(post_cases, their_boundaries)):
        post = registry.build(registry.COMPONENTS, dict(type="DBPostprocessor", **case["args"]),
                              "postprocessor")
        ours = post(case["maps"])
        assert len(ref) > 0, f"case {i} tests nothing"
        assert_close(ours, ref, what=f"postprocess case {i} {case['args']}")


def test_ring_that_mmocr_cannot_decode_is_dropped():
    # MMOCR 0.6.3 raises here (numpy >= 1.24 refuses its ragged np.array of the two paths the
    # offset gives: outer ring and hole); MMOCR with older numpy dropped the region, as we do
    _, _, ring = _maps()
    post = registry.build(registry.COMPONENTS, dict(type="DBPostprocessor"), "postprocessor")
    assert post(ring) == []
    with pytest.raises(UserError, match="text_repr_type: expected 'quad' or 'poly'"):
        registry.build(registry.COMPONENTS, dict(type="DBPostprocessor", text_repr_type="box"),
                       "model.bbox_head.postprocessor")

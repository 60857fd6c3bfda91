"""DBNet's parts on inputs whose results can be worked out by hand: DBLoss values, the
post-processor recovering the boxes DBNetTargets shrank, FPNC shapes, errors. (Equality with
MMOCR's own code: test_dbnet_parity.py.)"""
import math

import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_targets import DBNetTargets
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.dbnet.loss import DBLoss, DiceLoss
from ocr_ds.models.textdet.dbnet.neck import FPNC
from ocr_ds.models.textdet.dbnet.postprocess import DBPostprocessor, unclip

torch.set_num_threads(1)


def iou(a, b):
    pa, pb = Polygon(np.reshape(a, (-1, 2))), Polygon(np.reshape(b, (-1, 2)))
    return pa.intersection(pb).area / pa.union(pb).area


BOXES = [np.array([20, 20, 120, 20, 120, 44, 20, 44], float),
         np.array([40, 80, 180, 80, 180, 110, 40, 110], float)]


def db_maps(size=(140, 200)):
    """The DB shrink map of BOXES, used as a (perfect) probability map."""
    res = dict(img=np.zeros(size + (3,), np.float32), gt_masks=list(BOXES), gt_masks_ignore=[],
               mask_fields=[], bbox_fields=[], seg_fields=[])
    shrink = DBNetTargets()(res)["gt_shrink"].astype(np.float32)
    return torch.from_numpy(np.stack([shrink * 0.9, shrink, shrink]))


def test_dice_loss_values():
    target = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    dice = DiceLoss()
    assert dice(target.clone(), target).item() == pytest.approx(0.0, abs=1e-5)
    pred = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    assert dice(pred, target).item() == pytest.approx(0.5, abs=1e-5)
    # masked pixels take no part
    assert dice(pred, target, torch.tensor([[1.0, 1.0, 0.0, 1.0]])).item() == \
        pytest.approx(1 - 2 / 3, abs=1e-5)


def test_db_loss_known_values():
    gt = torch.zeros(1, 4, 4)
    gt[0, 0, :2] = 1                                       # 2 positive pixels
    prob = torch.full((1, 4, 4), 0.1)
    prob[0, 0, :2] = 0.8
    negs = [0.9, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]             # the hardest negatives
    for i, p in enumerate(negs):
        prob[0, 1 + i // 4, i % 4] = p
    thr_gt = torch.full((1, 4, 4), 0.3)
    thr_gt[0, 3, :3] = 0.7
    thr_mask = torch.zeros(1, 4, 4)
    thr_mask[0, 3, :3] = 1
    preds = torch.stack([prob[0], torch.full((4, 4), 0.5), gt[0]])[None]
    loss = DBLoss(alpha=5.0, beta=10.0, bbce_loss=True)(
        preds, 1.0, gt_shrink=gt, gt_shrink_mask=torch.ones(1, 4, 4), gt_thr=thr_gt,
        gt_thr_mask=thr_mask)
    # balanced BCE: 2 positives + the 6 = 3 x 2 hardest negatives
    expect = (2 * -math.log(0.8) + sum(-math.log(1 - p) for p in negs[:6])) / 8
    assert loss["loss_prob"].item() == pytest.approx(5 * expect, rel=1e-4)
    assert loss["loss_db"].item() == pytest.approx(0.0, abs=1e-4)     # binary map == gt
    assert loss["loss_thr"].item() == pytest.approx(10 * 0.2, rel=1e-4)
    assert set(loss) == {"loss_prob", "loss_db", "loss_thr"}


def test_db_loss_masks_ignored_pixels_and_runs_in_fp32_under_autocast():
    gt = torch.zeros(1, 4, 4)
    gt[0, 0, 0] = 1
    prob = torch.full((1, 4, 4), 0.75)                    # every negative is wrong...
    mask = torch.zeros(1, 4, 4)
    mask[0, 0, 0] = 1                                      # ...but only the positive counts
    preds = torch.stack([prob[0], prob[0], prob[0]])[None].to(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):       # torch's BCE refuses autocast
        loss = DBLoss(bbce_loss=True)(preds, 1.0, gt, mask, gt, mask)
    assert loss["loss_prob"].dtype == torch.float32
    assert loss["loss_prob"].item() == pytest.approx(-math.log(0.75), rel=1e-4)
    with pytest.raises(UserError, match="model.bbox_head.loss.reduction"):
        DBLoss(reduction="none")


@pytest.mark.parametrize("repr_type", ["quad", "poly"])
def test_db_postprocessor_recovers_boxes(repr_type):
    out = DBPostprocessor(text_repr_type=repr_type)(db_maps())
    assert len(out) == 2
    for b in out:
        assert b[-1] == pytest.approx(0.9, abs=1e-3)          # mean probability inside
        # unclip 1.5 undoes shrink 0.4 only roughly: for 100 x 24 text the kernel is 84 x 8
        # and grows back by 5.5 px, to about 95 x 19 (IoU 0.7-0.75), as in MMOCR
        assert max(iou(b[:-1], gt) for gt in BOXES) > 0.65
    if repr_type == "quad":
        assert all(len(b) == 9 for b in out)


def test_db_postprocessor_filters_low_scores_and_small_regions():
    maps = db_maps()
    assert DBPostprocessor(min_text_score=0.95)(maps) == []
    assert len(DBPostprocessor(max_candidates=0)(maps)) == 1    # MMOCR's loop takes one more
    assert DBPostprocessor(text_repr_type="quad", min_text_width=30)(maps) == []
    maps[0] = maps[0] * 0.2                                     # below mask_thr 0.3
    assert DBPostprocessor()(maps) == []


def test_unclip_grows_by_area_over_perimeter():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]])
    grown = unclip(square, 1.5)                                  # d = 100 * 1.5 / 40 = 3.75
    xs, ys = grown[:, 0], grown[:, 1]
    assert xs.min() == pytest.approx(-3.75, abs=0.6) and ys.max() == pytest.approx(13.75, abs=0.6)


def test_fpnc_shapes_names_and_errors():
    feats = [torch.randn(2, c, 32 // 2**i, 48 // 2**i) for i, c in enumerate([8, 16, 32, 64])]
    fpnc = FPNC(in_channels=[8, 16, 32, 64], lateral_channels=16, out_channels=4)
    assert fpnc(feats).shape == (2, 16, 32, 48)
    assert set(fpnc.state_dict()) == {f"{kind}_convs.{i}.conv.weight"
                                      for kind in ("lateral", "smooth") for i in range(4)}
    pp = FPNC(in_channels=[8, 16, 32, 64], lateral_channels=16, out_channels=4,
              asf_cfg=dict(attention_type="ScaleChannelSpatial"), conv_after_concat=True,
              bn_re_on_lateral=True)
    assert pp(feats).shape == (2, 16, 32, 48)
    assert {"asf_conv.conv.bias", "asf_attn.channel_wise.1.conv.weight",
            "asf_attn.attention_wise.conv.weight", "out_conv.bn.running_var",
            "lateral_convs.2.bn.weight"} <= set(pp.state_dict())
    with pytest.raises(UserError, match="model.neck.asf_cfg"):
        FPNC(in_channels=[8], asf_cfg=dict(attention_type="Spatial"))
    with pytest.raises(UserError, match="model.neck.in_channels"):
        FPNC(in_channels=(8, 16))


def test_db_head_half_model_gives_finite_loss_gradients():
    """DeepSpeed fp16 runs the head in half: its sigmoids and the binarisation run in fp32, so
    confident logits give maps strictly inside (0, 1) and finite gradients (the half sigmoid
    gave exactly 1.0 and an inf gradient at every step: every DBNet fp16 step skipped on a GPU)."""
    from ocr_ds.models.textdet.dbnet.head import DBHead

    torch.manual_seed(0)
    head = DBHead(in_channels=8)
    x = torch.randn(1, 8, 8, 8)
    ref = head(x)                                                     # fp32: unchanged maps
    assert ref.dtype == torch.float32
    for branch in (head.binarize, head.threshold):
        torch.nn.init.constant_(branch[6].bias, 12.0)                # sigmoid(12) rounds to 1 in fp16
    head = head.half()
    out = head(x.half())
    assert out.dtype == torch.float32
    assert 0 < out[:, :2].min() and out[:, :2].max() < 1
    assert torch.equal(torch.sigmoid(torch.tensor(12.0)).half(), torch.tensor(1.0).half())
    gt = torch.zeros(1, 32, 32)                                       # the maps' size
    losses = DBLoss(alpha=5, beta=10, bbce_loss=True)(out, 1.0, gt, torch.ones_like(gt),
                                                      torch.full_like(gt, 0.3), torch.ones_like(gt))
    sum(losses.values()).backward()
    grads = [p.grad for p in head.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g.float()).all() for g in grads)

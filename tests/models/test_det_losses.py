"""DBLoss (and the target fitting it shares with PSELoss) on small maps whose values can be
worked out by hand."""
import math

import pytest
import torch

from ocr_ds.models.textdet.losses import DBLoss, dice_loss, fit_target


def test_fit_target_rescales_and_pads():
    t = torch.zeros(1, 2, 8, 8)
    t[0, 1, 4:, 4:] = 1
    out = fit_target(t, (3, 3), 0.25)                       # 8x8 -> 2x2, padded to 3x3
    assert out.shape == (1, 2, 3, 3) and out.dtype == torch.float32
    assert out[0, 1].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert fit_target(torch.ones(2, 5, 5, dtype=torch.uint8), (4, 6)).shape == (2, 4, 6)


def test_dice_loss_values():
    target = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    assert dice_loss(target.clone(), target).item() == pytest.approx(0.0, abs=1e-5)
    pred = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    assert dice_loss(pred, target).item() == pytest.approx(0.5, abs=1e-5)
    # masked pixels take no part
    assert dice_loss(pred, target, torch.tensor([[1.0, 1.0, 0.0, 1.0]])).item() == \
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


def test_db_loss_masks_ignored_pixels_and_runs_in_fp32():
    gt = torch.zeros(1, 4, 4)
    gt[0, 0, 0] = 1
    prob = torch.full((1, 4, 4), 0.75)                    # every negative is wrong...
    mask = torch.zeros(1, 4, 4)
    mask[0, 0, 0] = 1                                      # ...but only the positive counts
    preds = torch.stack([prob[0], prob[0], prob[0]])[None].to(torch.bfloat16)
    loss = DBLoss(bbce_loss=True)(preds, 1.0, gt, mask, gt, mask)
    assert loss["loss_prob"].dtype == torch.float32
    assert loss["loss_prob"].item() == pytest.approx(-math.log(0.75), rel=1e-4)

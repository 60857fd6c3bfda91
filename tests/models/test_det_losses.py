"""PSELoss and target resizing on small maps whose values can be worked out by hand
(DBLoss: tests/models/dbnet)."""

import pytest
import torch

from ocr_ds.models.textdet.losses import PSELoss, fit_target


def test_fit_target_rescales_and_pads():
    t = torch.zeros(1, 2, 8, 8)
    t[0, 1, 4:, 4:] = 1
    out = fit_target(t, (3, 3), 0.25)                       # 8x8 -> 2x2, padded to 3x3
    assert out.shape == (1, 2, 3, 3) and out.dtype == torch.float32
    assert out[0, 1].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert fit_target(torch.ones(2, 5, 5, dtype=torch.uint8), (4, 6)).shape == (2, 4, 6)


def test_pse_loss_perfect_and_wrong_predictions():
    kernels = torch.zeros(1, 3, 8, 8)
    kernels[0, 0, 2:6, 1:7] = 1
    kernels[0, 1, 3:5, 2:6] = 1
    kernels[0, 2, 3:5, 3:5] = 1
    mask = torch.ones(1, 8, 8)
    perfect = kernels * 20 - 10                           # logits matching the targets
    loss = PSELoss()(perfect, 1.0, kernels, mask)
    assert set(loss) == {"loss_text", "loss_kernel"}
    assert loss["loss_text"].item() < 1e-3 and loss["loss_kernel"].item() < 1e-3
    wrong = -perfect
    bad = PSELoss()(wrong, 1.0, kernels, mask)
    assert bad["loss_text"].item() == pytest.approx(0.7, abs=0.01)   # alpha x (1 - ~0)
    # targets at full resolution, predictions at 1/4 (PSENet's downsample_ratio)
    small = PSELoss()(perfect[..., ::4, ::4] * 0, 0.25, kernels, mask)
    assert small["loss_text"].shape == ()


def test_pse_ohem_keeps_positives_and_hardest_negatives():
    loss = PSELoss(ohem_ratio=3)
    gt = torch.zeros(4, 4)
    gt[0, :2] = 1
    score = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    sampled = loss.ohem_img(score, gt, torch.ones(4, 4))
    assert sampled.sum().item() == 2 + 6
    assert sampled[3].sum() == 4 and sampled[2, 2:].sum() == 2      # the highest scores
    # no positive: everything effective is used
    assert loss.ohem_img(score, torch.zeros(4, 4), torch.ones(4, 4)).sum() == 16

"""PSENet's parts on inputs whose answers can be worked out by hand (no reference needed):
the loss, OHEM, the expansion's tie-breaking, the post-processor on PSENetTargets' kernels,
FPNF's shapes beyond MMOCR's fixed widths, and the errors a config can cause."""
import numpy as np
import pytest
import torch
from shapely.geometry import Polygon

from ocr_ds.datasets.pipelines.textdet_targets import PSENetTargets
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.psenet.fpnf import FPNF
from ocr_ds.models.textdet.psenet.loss import PSELoss, ohem_img
from ocr_ds.models.textdet.psenet.postprocessor import PSEPostprocessor, contour_expand


def test_loss_perfect_and_wrong_predictions():
    kernels = torch.zeros(1, 3, 8, 8)
    kernels[0, 0, 2:6, 1:7] = 1
    kernels[0, 1, 3:5, 2:6] = 1
    kernels[0, 2, 3:5, 3:5] = 1
    mask = torch.ones(1, 8, 8)
    perfect = kernels * 20 - 10                           # logits matching the targets
    loss = PSELoss()(perfect, 1.0, kernels, mask)
    assert set(loss) == {"loss_text", "loss_kernel"}
    assert loss["loss_text"].item() < 1e-3 and loss["loss_kernel"].item() < 1e-3
    bad = PSELoss()(-perfect, 1.0, kernels, mask)
    assert bad["loss_text"].item() == pytest.approx(0.7, abs=0.01)   # alpha x (1 - ~0)
    # targets at full resolution, predictions at 1/4 (PSENet's downsample_ratio)
    assert PSELoss()(perfect[..., ::4, ::4] * 0, 0.25, kernels, mask)["loss_text"].shape == ()


def test_ohem_keeps_positives_and_hardest_negatives():
    gt = torch.zeros(4, 4)
    gt[0, :2] = 1
    score = torch.arange(16, dtype=torch.float32).reshape(4, 4)
    sampled = ohem_img(score, gt, torch.ones(4, 4), 3)
    assert sampled.sum().item() == 2 + 6
    assert sampled[3].sum() == 4 and sampled[2, 2:].sum() == 2      # the highest scores
    # no positive: everything effective is used
    assert ohem_img(score, torch.zeros(4, 4), torch.ones(4, 4), 3).sum() == 16


def test_expansion_ties_go_to_the_earlier_seed():
    kernels = np.zeros((2, 1, 9), np.uint8)
    kernels[0, 0, :] = 1                                         # the text: one row of 9
    seeds = np.zeros((1, 9), np.int32)
    seeds[0, 1], seeds[0, 7] = 1, 2                              # two seeds
    # each pixel goes to the nearer seed; the equidistant middle one to the seed queued first
    assert contour_expand(kernels, seeds)[0].tolist() == [1, 1, 1, 1, 1, 2, 2, 2, 2]
    assert (contour_expand(kernels, seeds, min_kernel_area=2) == 0).all()
    # one kernel only: nothing to expand into
    assert (contour_expand(kernels[:1], seeds) == seeds).all()


def test_postprocessor_separates_touching_texts():
    # two boxes that touch at full size; their shrunk kernels are apart
    boxes = [np.array([4, 4, 60, 4, 60, 24, 4, 24], float),
             np.array([4, 25, 60, 25, 60, 45, 4, 45], float)]
    res = dict(img=np.zeros((50, 64, 3), np.float32), gt_masks=boxes, gt_masks_ignore=[],
               mask_fields=[], bbox_fields=[], seg_fields=[])
    kernels = PSENetTargets()(res)["gt_kernels"].astype(np.float32)
    logits = torch.from_numpy(kernels * 20 - 10)

    def iou(a, b):
        pa, pb = Polygon(np.reshape(a, (-1, 2))), Polygon(np.reshape(b, (-1, 2)))
        return pa.intersection(pb).area / pa.union(pb).area

    for repr_type in ("poly", "quad"):
        out = PSEPostprocessor(text_repr_type=repr_type)(logits)
        assert len(out) == 2
        for b in out:
            assert max(iou(b[:-1], gt) for gt in boxes) > 0.8
            assert b[-1] > 0.99
    assert PSEPostprocessor(min_text_area=5000)(logits) == []


def test_fpnf_any_widths_and_errors():
    feats = [torch.randn(2, c, 32 // 2**i, 48 // 2**i) for i, c in enumerate([8, 16, 32, 64])]
    # MMOCR fixes the fused width at 4 x 256; the CPU demo's narrow neck needs it computed
    assert FPNF(in_channels=[8, 16, 32, 64], out_channels=12)(feats).shape == (2, 12, 32, 48)
    assert FPNF(in_channels=[8, 16, 32, 64], out_channels=12, fusion_type="add")(
        feats).shape == (2, 12, 32, 48)
    with pytest.raises(UserError, match=r"model.neck.fusion_type: expected 'concat' or 'add' "
                                        r"\(got 'mul'\)"):
        FPNF(fusion_type="mul")
    with pytest.raises(UserError, match=r"model.neck.in_channels: expected a list"):
        FPNF(in_channels=256)


def test_loss_and_postprocessor_argument_errors():
    with pytest.raises(UserError, match=r"model.bbox_head.loss.kernel_sample_type"):
        PSELoss(kernel_sample_type="soft")
    with pytest.raises(UserError, match=r"postprocessor.min_kernel_confidence: expected a "
                                        r"value in \[0, 1\] \(got 2\)"):
        PSEPostprocessor(min_kernel_confidence=2)
    with pytest.raises(UserError, match=r"postprocessor.min_text_area: expected an int"):
        PSEPostprocessor(min_text_area=16.0)
    with pytest.raises(UserError, match=r"postprocessor.text_repr_type"):
        PSEPostprocessor(text_repr_type="circle")

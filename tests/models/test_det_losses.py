"""The target fitting the detection losses share, on maps worked out by hand (DBLoss:
tests/models/dbnet; PSELoss: tests/models/psenet)."""
import torch

from ocr_ds.models.textdet.losses import fit_target


def test_fit_target_rescales_and_pads():
    t = torch.zeros(1, 2, 8, 8)
    t[0, 1, 4:, 4:] = 1
    out = fit_target(t, (3, 3), 0.25)                       # 8x8 -> 2x2, padded to 3x3
    assert out.shape == (1, 2, 3, 3) and out.dtype == torch.float32
    assert out[0, 1].tolist() == [[0, 0, 0], [0, 1, 0], [0, 0, 0]]
    assert fit_target(torch.ones(2, 5, 5, dtype=torch.uint8), (4, 6)).shape == (2, 4, 6)

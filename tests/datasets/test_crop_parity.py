"""OnlineCropOCR (recognition crops from whole images, with box jitter) and DiceLoss against
MMOCR 0.6.3's: the same crops from the same numpy stream, jittered or not, boxes partly
outside the image, unsorted corners, samples without a box; the same loss with and without a
mask."""
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from parity import ref_file

REF = ref_file(__file__, "mmocr_crop.py")


def _info(box):
    return {f"{a}{i + 1}": v for i, (x, y) in enumerate(zip(box[0::2], box[1::2]))
            for a, v in (("x", x), ("y", y))}


def test_online_crop_equals_mmocr(mmocr_ref):
    rng = np.random.RandomState(0)
    img = torch.from_numpy(rng.randint(0, 255, (60, 90, 3), np.uint8))
    boxes = [[10, 10, 60, 12, 58, 30, 9, 28],                 # a slanted word
             [58, 30, 9, 28, 10, 10, 60, 12],                 # the same, corners rotated
             [-5, 40, 95, 40, 95, 70, -5, 70],                # partly outside the image
             [20.5, 5.25, 40.75, 5.0, 41.0, 20.5, 20.0, 21.0]]
    cases = []
    for box in boxes:
        for kwargs in (dict(), dict(jitter_prob=0.0, max_jitter_ratio_x=0.3,
                                    max_jitter_ratio_y=0.2), dict(jitter_prob=1.0)):
            cases.append((kwargs, img, _info(box)))
    cases.append((dict(), img, dict(filename="whole.png")))   # no box: unchanged
    theirs = mmocr_ref.call(REF, "online_crop", cases=cases, seed=3)
    np.random.seed(3)
    for (kwargs, image, info), (ref_img, ref_shape) in zip(cases, theirs):
        step = registry.build(registry.PIPELINES, dict(type="OnlineCropOCR", **kwargs),
                              "pipeline")
        results = step(dict(img=image.numpy(), img_info=dict(info)))
        assert np.array_equal(results["img"], ref_img.numpy()), (kwargs, info)
        assert list(results.get("img_shape", ())) == ref_shape
    jittered = [t[0].shape for t, (k, _, _) in zip(theirs, cases) if k.get("jitter_prob") == 0]
    plain = [t[0].shape for t, (k, _, _) in zip(theirs, cases) if k.get("jitter_prob") == 1]
    assert jittered != plain                                  # the jitter did something
    with pytest.raises(UserError, match="OnlineCropOCR.jitter_prob: expected a number in"):
        registry.build(registry.PIPELINES, dict(type="OnlineCropOCR", jitter_prob=2),
                       "pipeline")


def test_dice_loss_equals_mmocr(mmocr_ref):
    g = torch.Generator().manual_seed(0)
    pred = torch.rand(2, 1, 8, 8, generator=g)
    target = (torch.rand(2, 1, 8, 8, generator=g) > 0.5).float()
    mask = (torch.rand(2, 1, 8, 8, generator=g) > 0.2).float()
    cases = [(1e-6, pred, target, None), (1e-6, pred, target, mask), (0.5, pred, target, mask)]
    theirs = mmocr_ref.call(REF, "dice", cases=cases)
    for (eps, p, t, m), ref in zip(cases, theirs):
        loss = registry.build(registry.COMPONENTS, dict(type="DiceLoss", eps=eps), "loss")
        assert torch.equal(loss(p, t, m), ref)

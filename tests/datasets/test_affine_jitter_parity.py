"""MMOCR 0.6.3's ``AffineJitter`` (torchvision's ``RandomAffine`` on the RGB PIL image of the
BGR array; its ``resample``/``fillcolor`` read as the torchvision of its time read them) against
ours, from one seed: the same images bit for bit, for its defaults, a shear, a bilinear filter
and a fill; grey images too (which MMOCR's ``[..., ::-1]`` mirrors around the transform)."""
import copy

import numpy as np
import pytest
import torch

from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_affine_jitter.py")
CASES = {
    "defaults": dict(type="AffineJitter"),
    "shear, bilinear, fill": dict(type="AffineJitter", degrees=(-20, 10), translate=(0.1, 0.2),
                                  scale=(0.7, 1.3), shear=(-10, 10, -5, 5), resample=2,
                                  fillcolor=200),
}


def _images(channels):
    gen = torch.Generator().manual_seed(5)
    return [torch.randint(0, 256, (17 + 5 * i, 23 + 11 * i, *channels), generator=gen,
                          dtype=torch.uint8) for i in range(8)]


@pytest.mark.parametrize("name", list(CASES))
def test_affine_jitter_gives_mmocr_images(mmocr_ref, name):
    steps = [CASES[name]]
    for channels in ((3,), ()):           # BGR, and a grey H x W image
        images = _images(channels)
        theirs = mmocr_ref.call(REF, "affine_jitter", steps=steps, images=images, seed=7)
        torch.manual_seed(7)
        np.random.seed(7)
        pipe = Compose(copy.deepcopy(steps))
        changed = 0
        for i, (img, ref) in enumerate(zip(images, theirs)):
            out = pipe(dict(img=img.numpy(), img_shape=tuple(img.shape)))["img"]
            assert out.dtype == np.uint8 and out.flags.c_contiguous and out.flags.writeable
            assert_close(torch.from_numpy(out), ref["img"], rtol=0, atol=0,
                         what=f"{name}, {len(channels) and 'BGR' or 'grey'} image {i}")
            changed += not torch.equal(torch.from_numpy(out), img)
        assert changed >= 6       # it did move the pixels


def test_affine_jitter_bad_input_is_one_line():
    with pytest.raises(UserError, match=r"AffineJitter: expected a uint8 image, .*\(got float32\)"):
        Compose([dict(type="AffineJitter")])(dict(img=np.zeros((4, 4, 3), np.float32)))
    with pytest.raises(UserError, match=r"pipeline.0.translate: expected values in \[0, 1\]"):
        Compose([dict(type="AffineJitter", translate=(2, 0))])

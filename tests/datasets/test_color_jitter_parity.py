"""MMOCR 0.6.3's ``ColorJitter`` pipeline step (torchvision's transform on the RGB PIL image of
the BGR array) against ours, from one seed: the same images bit for bit, for the settings
MMOCR's detection and SegOCR configs use and for every factor at once; grey images too."""
import copy
import os

import numpy as np
import pytest
import torch

from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from parity import assert_close

COMMON = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "parity",
                      "mmocr_common.py")
CASES = {
    # DBNet / PSENet / PANet / FCENet / TextSnake / Mask R-CNN pipelines
    "detection configs": dict(type="ColorJitter", brightness=32.0 / 255, saturation=0.5),
    # SegOCR's seg_pipeline.py
    "segocr config": dict(type="ColorJitter", brightness=0.4, contrast=0.4, saturation=0.4,
                          hue=0.1),
    "ranges": dict(type="ColorJitter", brightness=(0.5, 1.5), contrast=(0.2, 0.9),
                   saturation=(1.0, 3.0), hue=(-0.5, 0.5)),
}


def _images(channels):
    gen = torch.Generator().manual_seed(3)
    return [torch.randint(0, 256, (17 + 5 * i, 23 + 11 * i, *channels), generator=gen,
                          dtype=torch.uint8) for i in range(8)]


@pytest.mark.parametrize("name", list(CASES))
def test_color_jitter_gives_mmocr_images(mmocr_ref, name):
    steps = [CASES[name]]
    for channels in ((3,), ()):           # BGR, and a grey H x W image
        images = _images(channels)
        theirs = mmocr_ref.call(COMMON, "pipeline_steps", steps=steps, images=images, seed=11)
        torch.manual_seed(11)
        np.random.seed(11)
        pipe = Compose(copy.deepcopy(steps))
        for i, (img, ref) in enumerate(zip(images, theirs)):
            out = pipe(dict(img=img.numpy(), img_shape=tuple(img.shape)))["img"]
            assert out.dtype == np.uint8 and out.flags.c_contiguous and out.flags.writeable
            assert_close(torch.from_numpy(out), ref["img"], rtol=0, atol=0,
                         what=f"{name}, {len(channels) and 'BGR' or 'grey'} image {i}")
        assert any(not torch.equal(torch.from_numpy(pipe(dict(img=img.numpy()))["img"]), img)
                   for img in images)   # it did jitter


def test_color_jitter_refuses_a_float_image():
    step = Compose([dict(type="ColorJitter", brightness=0.5)])
    with pytest.raises(UserError, match=r"ColorJitter: expected a uint8 image, .*\(got float32\)"):
        step(dict(img=np.zeros((4, 4, 3), np.float32)))

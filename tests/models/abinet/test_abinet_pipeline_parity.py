"""The ABINet pipeline steps against MMOCR 0.6.3's own (its wrappers, PyramidRescale and
torchvision's transforms through TorchVisionWrapper): from one seed of python, numpy and torch,
the same images bit for bit. ``Albu`` (albumentations is not in the reference venv) is checked
against numbers the real albumentations 1.2.1 gave through mmdet's ``Albu``."""
import copy
import random

import numpy as np
import pytest
import torch

from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_abinet.py")
RESIZE = dict(type="ResizeOCR", height=32, min_width=128, max_width=128,
              keep_aspect_ratio=False, width_downsample_ratio=0.25)
ONE_OF = dict(type="OneOfWrapper", transforms=[
    dict(type="RandomRotateTextDet", max_angle=15),
    dict(type="TorchVisionWrapper", op="RandomAffine", degrees=15, translate=(0.3, 0.3),
         scale=(0.5, 2.), shear=(-45, 45)),
    dict(type="TorchVisionWrapper", op="RandomPerspective", distortion_scale=0.5, p=1)])
JITTER = dict(type="TorchVisionWrapper", op="ColorJitter", brightness=0.5, saturation=0.5,
              contrast=0.5, hue=0.1)
CASES = {
    # MMOCR's abinet_pipeline.py train steps but Albu, with its probabilities: over the ten
    # images each wrapper both runs and is skipped (the pyramid factor drawn is 4)
    "abinet train steps": [RESIZE, dict(type="RandomWrapper", p=0.5, transforms=[ONE_OF]),
                           dict(type="RandomWrapper", p=0.25,
                                transforms=[dict(type="PyramidRescale")]),
                           dict(type="RandomWrapper", p=0.25, transforms=[JITTER])],
    "one of (all branches)": [RESIZE, ONE_OF],
    "colour jitter": [RESIZE, JITTER],
    "affine, bilinear, fill": [dict(type="TorchVisionWrapper", op="RandomAffine",
                                    degrees=(-5, 30), scale=(0.8, 1.2),
                                    shear=(-10, 10, -5, 5), interpolation=2, fill=(10, 20, 30))],
    "pyramid rescale, fixed factor": [dict(type="PyramidRescale", factor=2,
                                           base_shape=(64, 256), randomize_factor=False)],
}


def _images(n=10):
    gen = torch.Generator().manual_seed(5)
    shapes = [(20 + 3 * i, 40 + 17 * i, 3) for i in range(n)]
    return [torch.randint(0, 256, s, generator=gen, dtype=torch.uint8) for s in shapes]


@pytest.mark.parametrize("name", list(CASES))
def test_abinet_steps_match_mmocr(mmocr_ref, name):
    steps, images = CASES[name], _images()
    theirs = mmocr_ref.call(REF, "pipeline_steps", steps=steps, images=images, seed=7)
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    pipe = Compose(copy.deepcopy(steps))
    for i, (img, ref) in enumerate(zip(images, theirs)):
        arr = img.numpy()
        out = pipe(dict(img=arr, img_shape=arr.shape, ori_shape=arr.shape))
        assert list(out["img_shape"]) == ref["img_shape"], i
        assert_close(torch.from_numpy(np.ascontiguousarray(out["img"])), ref["img"], rtol=0,
                     atol=0, what=f"image {i}")


# (shape, sum, position-weighted checksum) of mmdet's Albu with albumentations 1.2.1 (python
# and numpy seeded with i, image i of a RandomState(0) stream) -- noise and blur on and off
ALBU_GOLDEN = [(1568324, 5221087687), (1571516, 4834771924), (1571241, 5229377890),
               (1576105, 5514417386), (1571813, 5366794269), (1554582, 4786763532),
               (1563257, 5344314594), (1568890, 5343900003)]


def test_albu_matches_albumentations():
    albu = Compose([dict(type="Albu", transforms=[
        dict(type="GaussNoise", var_limit=(20, 20), p=0.5),
        dict(type="MotionBlur", blur_limit=6, p=0.5)])])
    rng = np.random.RandomState(0)
    for seed, (total, weighted) in enumerate(ALBU_GOLDEN):
        random.seed(seed)
        np.random.seed(seed)
        img = rng.randint(0, 256, (32, 128, 3)).astype(np.uint8)
        out = albu(dict(img=img.copy()))["img"].astype(np.int64)
        assert out.shape == (32, 128, 3)
        assert (int(out.sum()), int((out * np.arange(out.size).reshape(out.shape)
                                     % 1000003).sum())) == (total, weighted), seed


@pytest.mark.parametrize("step, message", [
    (dict(type="TorchVisionWrapper", op="RandomErasing"),
     r"pipeline.0.op: expected one of \['ColorJitter', 'RandomAffine', "
     r"'RandomPerspective'\]"),
    (dict(type="TorchVisionWrapper", op="ColorJitter", hue=0.7),
     r"pipeline.0.hue: expected -0.5 <= low <= high <= 0.5"),
    (dict(type="Albu", transforms=[dict(type="Blur")]),
     r"pipeline.0.transforms.0.type: expected one of \['GaussNoise', 'MotionBlur'\]"),
    (dict(type="RandomWrapper", p=2, transforms=[]), r"pipeline.0.p: expected a probability"),
    (dict(type="OneOfWrapper", transforms=[]), r"pipeline.0.transforms: expected a non-empty"),
])
def test_bad_steps_are_config_errors(step, message):
    with pytest.raises(UserError, match=message):
        Compose([step])

"""Ref side of test_affine_jitter_parity.py: MMOCR 0.6.3's ``AffineJitter`` on a torchvision
that takes its ``resample``/``fillcolor`` arguments as torchvision 0.8-0.12 did (0.28, the
venv's, refuses them): ``resample`` read as Pillow's filter number (``False`` = 0 = nearest),
``fillcolor`` as ``fill``; nothing else of torchvision 0.28's ``RandomAffine`` changed."""
import os
import sys

import torchvision.transforms as T

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "parity"))
from mmocr_common import pipeline_steps  # noqa: E402

_FILTERS = {0: T.InterpolationMode.NEAREST, 2: T.InterpolationMode.BILINEAR,
            3: T.InterpolationMode.BICUBIC}


class _RandomAffine012(T.RandomAffine):
    def __init__(self, *args, resample=None, fillcolor=None, **kwargs):
        if resample is not None:
            kwargs["interpolation"] = _FILTERS[int(resample)]
        if fillcolor is not None:
            kwargs["fill"] = fillcolor
        super().__init__(*args, **kwargs)


def affine_jitter(steps, images, seed):
    """``pipeline_steps`` with torchvision's RandomAffine as 0.12's while it runs."""
    original = T.RandomAffine
    T.RandomAffine = _RandomAffine012
    try:
        return pipeline_steps(steps, images, seed)
    finally:
        T.RandomAffine = original

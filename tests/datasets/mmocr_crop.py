"""Ref side of test_crop_parity.py: MMOCR 0.6.3's OnlineCropOCR and DiceLoss."""
import numpy as np
import torch

np.int = int        # MMOCR 0.6.3's sort_vertex uses np.int, gone from the venv's numpy


def online_crop(cases, seed):
    """OnlineCropOCR(**kwargs) on each ``(kwargs, img, img_info)``, one seeded numpy stream."""
    from mmocr.datasets.pipelines import OnlineCropOCR

    np.random.seed(seed)
    out = []
    for kwargs, img, info in cases:
        results = OnlineCropOCR(**kwargs)(dict(img=img.numpy(), img_info=dict(info)))
        out.append((torch.from_numpy(np.ascontiguousarray(results["img"])),
                    list(results.get("img_shape", ()))))
    return out


def dice(cases):
    from mmocr.models.common.losses import DiceLoss

    return [DiceLoss(eps)(pred, target, mask) for eps, pred, target, mask in cases]

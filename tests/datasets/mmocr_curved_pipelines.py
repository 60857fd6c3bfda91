"""Ref side of test_curved_pipeline_parity.py: MMOCR 0.6.3's CTW1500 transforms and its
TextSnake / FCENet targets, on the polygons and images the test sends."""
import numpy as np
import torch
from mmdet.core import PolygonMasks
from mmdet.datasets.builder import build_from_cfg
from mmdet.datasets.builder import PIPELINES

import mmocr.datasets  # noqa: F401 (registers MMOCR's pipelines)

# MMOCR 0.6.3 was written for numpy < 1.24, which still had these aliases
np.bool = bool
np.int = int


def _results(img, polys, ignore):
    img = img.numpy()
    h, w = img.shape[:2]
    return dict(img=img, img_shape=img.shape, ori_shape=img.shape,
                mask_fields=['gt_masks', 'gt_masks_ignore'], bbox_fields=[],
                gt_masks=PolygonMasks([[p.numpy().copy()] for p in polys], h, w),
                gt_masks_ignore=PolygonMasks([[p.numpy().copy()] for p in ignore], h, w),
                gt_labels=np.arange(len(polys)))


def transforms(steps, img, polys, ignore, seeds):
    """Each step of ``steps`` (a config dict) on a fresh copy of the sample, once per seed
    (``np.random.seed``): the image, polygons, ignored polygons and labels it leaves."""
    out = []
    for cfg in steps:
        step = build_from_cfg(dict(cfg), PIPELINES)
        runs = []
        for seed in seeds:
            np.random.seed(seed)
            res = step(_results(img.clone(), polys, ignore))
            runs.append(dict(img=res['img'],
                             polys=[m[0] for m in res['gt_masks'].masks],
                             ignore=[m[0] for m in res['gt_masks_ignore'].masks],
                             labels=np.asarray(res['gt_labels']).tolist()))
        out.append(runs)
    return out


def targets(cfg, img_shape, polys, ignore):
    """MMOCR's targets step ``cfg`` on the polygons (``img_shape`` (h, w, 3))."""
    step = build_from_cfg(dict(cfg), PIPELINES)
    h, w = img_shape[:2]
    res = step(_results(torch.zeros((h, w, 3), dtype=torch.uint8), polys, ignore))
    out = {}
    for key in ('gt_text_mask', 'gt_center_region_mask', 'gt_mask', 'gt_radius_map',
                'gt_sin_map', 'gt_cos_map'):
        if key in res:
            out[key] = res[key].masks[0]
    for key in ('p3_maps', 'p4_maps', 'p5_maps'):
        if key in res:
            out[key] = res[key]
    return out


"""Ref side of test_textsnake_parity.py: MMOCR 0.6.3's TextSnake on the test's weights, batch
and head maps."""
import copy

import numpy as np
import torch
from mmdet.core import BitmapMasks
from mmocr.models.builder import build_head, build_neck

from mmocr_common import build_model, detector_run, load_config, seed_all, state_of

# MMOCR 0.6.3 was written for numpy < 1.24, which still had these aliases
np.bool = bool
np.int = int


def model_run(config, seed, img, maps, checkpoint):
    """``detector_run`` from ``seed`` on (img, maps); then the eval head maps of img[:1]."""
    cfg = load_config(config)['model']
    cfg['backbone'].pop('init_cfg', None)          # would download torchvision weights
    model = build_model(cfg, seed=seed)
    h, w = img.shape[2:]
    out = detector_run(model, img, {k: [BitmapMasks([m.numpy()], h, w) for m in v]
                                    for k, v in maps.items()}, checkpoint)
    model.eval()
    with torch.no_grad():
        out['eval_maps'] = model.bbox_head(model.extract_feat(img[:1])).clone()
    return out


def neck_and_head_init(neck_cfg, head_cfg, seed):
    """FPN_UNet and TextSnakeHead built alone from ``seed``, then init_weights()."""
    seed_all(seed)
    neck = build_neck(copy.deepcopy(neck_cfg))
    neck.init_weights()
    head = build_head(copy.deepcopy(head_cfg))
    head.init_weights()
    return dict(neck=state_of(neck), head=state_of(head))


def decode(head_cfg, cases):
    """``TextSnakeHead.get_boundary`` on each case's ``(1, 5, H, W)`` maps and scale factor."""
    head = build_head(copy.deepcopy(head_cfg))
    out = []
    for maps, scale_factor in cases:
        meta = dict(scale_factor=scale_factor.numpy(), filename='x.jpg')
        out.append(head.get_boundary(maps.clone(), [meta], True)['boundary_result'])
    return out


def losses(cases):
    """TextSnakeLoss on (pred maps, downsample ratio, targets) cases."""
    from mmocr.models.builder import build_loss
    loss = build_loss(dict(type='TextSnakeLoss'))
    out = []
    for pred, ratio, maps in cases:
        pred = pred.clone().requires_grad_(True)
        h, w = maps['gt_text_mask'].shape[1:]
        targets = {k: [BitmapMasks([m.numpy()], h, w) for m in v] for k, v in maps.items()}
        result = loss(pred, ratio, **targets)
        sum(result.values()).backward()
        out.append(dict(losses={k: v.detach() for k, v in result.items()}, grad=pred.grad))
    return out

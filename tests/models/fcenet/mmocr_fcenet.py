"""Ref side of test_fcenet_parity.py: MMOCR 0.6.3's FCENet (and mmdet's FPN) on the test's
weights, batch and head maps."""
import copy

import numpy as np
import torch
from mmdet.models.builder import build_neck
from mmocr.models.builder import build_head

from mmocr_common import build_model, detector_run, load_config, seed_all, state_of

# MMOCR 0.6.3 was written for numpy < 1.24, which still had these aliases
np.bool = bool
np.int = int


def model_cfg(config):
    cfg = load_config(config)['model']
    cfg['backbone'].pop('init_cfg', None)          # would download torchvision weights
    return cfg


def model_run(config, seed, img, maps, checkpoint):
    """``detector_run`` from ``seed`` on (img, maps); then the eval head maps and boundaries
    of img[:1]."""
    model = build_model(model_cfg(config), seed=seed)
    out = detector_run(model, img, {k: [m.numpy() for m in v] for k, v in maps.items()},
                       checkpoint)
    model.eval()
    with torch.no_grad():
        preds = model.bbox_head(model.extract_feat(img[:1]))
        meta = dict(scale_factor=np.array([0.5, 0.8, 0.5, 0.8], np.float32),
                    filename='x.jpg')
        out['eval_maps'] = [[t.clone() for t in level] for level in preds]
        out['boundaries'] = model.simple_test(img[:1], [meta], rescale=True)[0][
            'boundary_result']
    return out


def neck_and_head_init(neck_cfg, head_cfg, seed):
    """mmdet's FPN and MMOCR's FCEHead built alone from ``seed``, then init_weights()."""
    seed_all(seed)
    neck = build_neck(copy.deepcopy(neck_cfg))
    neck.init_weights()
    head = build_head(copy.deepcopy(head_cfg))
    head.init_weights()
    return dict(neck=state_of(neck), head=state_of(head))


def decode(head_cfg, cases):
    """``FCEHead.get_boundary`` on each case's levels ``[[cls, reg], ...]`` and meta."""
    head = build_head(copy.deepcopy(head_cfg))
    out = []
    for levels, scale_factor in cases:
        meta = dict(scale_factor=scale_factor.numpy(), filename='x.jpg')
        out.append(head.get_boundary(levels, [meta], True)['boundary_result'])
    return out


def fpn_variants(cases, seed):
    """FPN's state and train-mode outputs for each (config, inputs), built from ``seed``."""
    out = []
    for cfg, inputs in cases:
        seed_all(seed)
        neck = build_neck(copy.deepcopy(cfg))
        neck.init_weights()
        neck.train()
        out.append(dict(state=state_of(neck), outs=[o.detach() for o in neck(inputs)]))
    return out


def nms(cases):
    """MMOCR's ``poly_nms`` on each ``(boundaries, threshold)``."""
    from mmocr.models.textdet.postprocess.utils import poly_nms
    return [poly_nms([list(b) for b in boundaries], threshold) for boundaries, threshold in cases]

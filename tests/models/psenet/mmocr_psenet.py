"""Ref side of test_psenet_parity.py: MMOCR 0.6.3's PSENet, FPNF, PSEHead, PSELoss and
PSEPostprocessor (with mmcv's compiled contour_expand) on the tests' inputs."""
import copy

import numpy as np
import torch
from mmcv.ops import contour_expand
from mmdet.core import BitmapMasks
from mmocr.models.builder import build_loss, build_neck, build_postprocessor
from mmocr.models.textdet.dense_heads import PSEHead

from mmocr_common import build_model, grads_of, init_stats, load_config, seed_all, state_of


def model_cfg(variant='model_quad', backbone=None, neck=None):
    cfg = load_config('_base_/det_models/psenet_r50_fpnf.py')[variant]
    cfg['backbone']['init_cfg'] = None        # would download torchvision's weights
    cfg['backbone'].update(backbone or {})
    cfg['neck'].update(neck or {})
    return cfg


def _perturb_norms(model, seed):
    """BN weights, biases and running statistics away from 1/0, so that they matter."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.randn(n, generator=gen) * 0.1
            m.running_mean = torch.randn(n, generator=gen) * 0.1
            m.running_var = torch.rand(n, generator=gen) + 0.5


def _bitmasks(dense):
    """(N, [K,] H, W) 0/1 tensor -> one BitmapMasks per sample, as PSENetTargets leaves them."""
    out = []
    for sample in dense.numpy().astype(np.uint8):
        masks = sample if sample.ndim == 3 else sample[None]
        out.append(BitmapMasks(list(masks), *masks.shape[1:]))
    return out


def whole_model(seed):
    """MMOCR's model dicts, and the keys, shapes and init statistics of a seeded PSENet."""
    cfg = load_config('_base_/det_models/psenet_r50_fpnf.py')
    model = build_model(model_cfg(), seed=seed)
    return dict(configs={k: cfg[k] for k in ('model_quad', 'model_poly')},
                shapes={k: list(v.shape) for k, v in model.state_dict().items()},
                stats=init_stats(model))


def neck_and_head(seed):
    """The initial state of FPNF then PSEHead built from one seed (as the detector builds them)."""
    cfg = model_cfg()
    seed_all(seed)
    neck = build_neck(copy.deepcopy(cfg['neck']))
    head = PSEHead(**{k: v for k, v in cfg['bbox_head'].items() if k != 'type'})
    neck.init_weights()
    head.init_weights()
    return dict(neck=state_of(neck), head=state_of(head))


def train_and_eval(seed, img, gt_kernels, gt_mask, backbone, neck):
    """A seeded PSENet's weights, and MMOCR's losses, gradients and eval maps on the batch."""
    model = build_model(model_cfg(backbone=backbone, neck=neck), seed=seed)
    _perturb_norms(model, seed)
    state = state_of(model)
    model.train()
    losses = model.forward_train(img, [{} for _ in img], gt_kernels=_bitmasks(gt_kernels),
                                 gt_mask=_bitmasks(gt_mask))
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(img))
    return dict(state=state, losses={k: v.detach() for k, v in losses.items()},
                grads=grads_of(model), maps=maps)


def loss_cases(cases):
    """PSELoss (with its arguments) on score maps and dense targets, with the maps' gradient."""
    out = []
    for case in cases:
        loss = build_loss(dict(type='PSELoss', **case['args']))
        maps = case['maps'].clone().requires_grad_(True)
        losses = loss(maps, case['ratio'], _bitmasks(case['gt_kernels']),
                      _bitmasks(case['gt_mask']))
        sum(losses.values()).backward()
        out.append(dict(losses={k: v.detach() for k, v in losses.items()}, grad=maps.grad))
    return out


def postprocess_cases(cases):
    """PSEPostprocessor's boundaries, rescaled as the head does for a test image."""
    head = PSEHead(in_channels=[4], out_channels=7)
    out = []
    for case in cases:
        head.postprocessor = build_postprocessor(dict(type='PSEPostprocessor', **case['args']))
        meta = dict(filename='x.jpg', scale_factor=np.array(case['scale_factor'], np.float32))
        raw = head.postprocessor(case['maps'])
        rescaled = head.get_boundary(case['maps'][None], [meta], True)['boundary_result']
        out.append(dict(raw=raw, rescaled=rescaled))
    return out


def expand_cases(cases):
    """mmcv's compiled contour_expand on (kernel masks, seed labels, min area)."""
    out = []
    for kernels, labels, min_area in cases:
        n = int(labels.max()) + 1
        out.append(torch.tensor(contour_expand(kernels.numpy().astype(np.uint8),
                                               labels.numpy().astype(np.int32), min_area, n)))
    return out

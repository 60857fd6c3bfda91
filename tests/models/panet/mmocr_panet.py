"""Ref side of test_panet_parity.py: MMOCR 0.6.3's PANet, FPEM_FFM, PANHead, PANLoss,
PANPostprocessor (with mmcv's compiled pixel_group) and PANetTargets on the tests' inputs."""
import copy

import numpy as np
import torch
from mmcv.ops import pixel_group
from mmdet.core import BitmapMasks, PolygonMasks
from mmocr.datasets.pipelines.textdet_targets import PANetTargets
from mmocr.models.builder import build_loss, build_neck, build_postprocessor
from mmocr.models.textdet.dense_heads import PANHead

from mmocr_common import build_model, grads_of, init_stats, load_config, seed_all, state_of

CONFIGS = {
    'ctw1500': 'textdet/panet/panet_r18_fpem_ffm_600e_ctw1500.py',
    'icdar2015': 'textdet/panet/panet_r18_fpem_ffm_600e_icdar2015.py',
    'icdar2017': 'textdet/panet/panet_r50_fpem_ffm_600e_icdar2017.py',
}


def model_cfg(name='icdar2015', backbone=None, neck=None, loss=None):
    cfg = load_config(CONFIGS[name])['model']
    cfg['pretrained'] = None                  # would download torchvision's weights
    cfg['backbone']['init_cfg'] = None
    cfg['backbone'].update(backbone or {})
    cfg['neck'].update(neck or {})
    cfg['bbox_head']['loss'].update(loss or {})
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


def _bitmasks(dense, dtype):
    """(N, [K,] H, W) tensor -> one BitmapMasks per sample, as PANetTargets leaves them."""
    out = []
    for sample in dense.numpy().astype(dtype):
        masks = sample if sample.ndim == 3 else sample[None]
        out.append(BitmapMasks(list(masks), *masks.shape[1:]))
    return out


def whole_models(seed):
    """The three configs' model dicts; the keys, shapes and init statistics of a seeded R18
    (ICDAR 2015) and R50 (ICDAR 2017) PANet."""
    out = dict(configs={name: load_config(p)['model'] for name, p in CONFIGS.items()})
    for name in ('icdar2015', 'icdar2017'):
        model = build_model(model_cfg(name), seed=seed)
        out[name] = dict(shapes={k: list(v.shape) for k, v in model.state_dict().items()},
                         stats=init_stats(model))
    return out


def neck_and_head(seed):
    """The initial state of FPEM_FFM then PANHead built from one seed (as the detector does)."""
    cfg = model_cfg()
    seed_all(seed)
    neck = build_neck(copy.deepcopy(cfg['neck']))
    head = PANHead(**{k: v for k, v in cfg['bbox_head'].items() if k != 'type'})
    neck.init_weights()
    head.init_weights()
    return dict(neck=state_of(neck), head=state_of(head))


def train_and_eval(seed, name, img, gt_kernels, gt_mask, backbone, neck, loss, np_seed):
    """A seeded PANet's weights, and MMOCR's losses, gradients and eval maps on the batch."""
    model = build_model(model_cfg(name, backbone, neck, loss), seed=seed)
    _perturb_norms(model, seed)
    state = state_of(model)
    model.train()
    np.random.seed(np_seed)
    losses = model.forward_train(img, [{} for _ in img],
                                 gt_kernels=_bitmasks(gt_kernels, np.float32),
                                 gt_mask=_bitmasks(gt_mask, np.uint8))
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(img))
    return dict(state=state, losses={k: v.detach() for k, v in losses.items()},
                grads=grads_of(model), maps=maps)


def loss_cases(cases):
    """PANLoss (with its arguments) on maps and dense targets, with the maps' gradient."""
    out = []
    for case in cases:
        loss = build_loss(dict(type='PANLoss', **case['args']))
        maps = case['maps'].clone().requires_grad_(True)
        np.random.seed(case['np_seed'])
        losses = loss(maps, case['ratio'], _bitmasks(case['gt_kernels'], np.float32),
                      _bitmasks(case['gt_mask'], np.uint8))
        sum(losses.values()).backward()
        out.append(dict(losses={k: v.detach() for k, v in losses.items()}, grad=maps.grad))
    return out


def group_cases(cases):
    """mmcv's compiled pixel_group on (score, mask, embedding, labels, contour, num, thr)."""
    out = []
    for c in cases:
        out.append(pixel_group(c['score'].numpy(), c['mask'].numpy().astype(bool),
                               c['embedding'].numpy(), c['labels'].numpy().astype(np.int32),
                               c['contour'].numpy().astype(np.uint8), int(c['num']),
                               float(c['thr'])))
    return out


def postprocess_cases(cases):
    """PANPostprocessor's boundaries, and as the head rescales them for a test image."""
    head = PANHead(in_channels=[4], out_channels=6)
    out = []
    for case in cases:
        head.postprocessor = build_postprocessor(dict(type='PANPostprocessor', **case['args']))
        meta = dict(filename='x.jpg', scale_factor=np.array(case['scale_factor'], np.float32))
        raw = head.postprocessor(case['maps'].clone())
        rescaled = head.get_boundary(case['maps'][None].clone(), [meta],
                                     True)['boundary_result']
        out.append(dict(raw=raw, rescaled=rescaled))
    return out


def target_cases(cases):
    """PANetTargets' maps for polygons (flat lists) and ignored polygons on an h x w image."""
    out = []
    for case in cases:
        h, w = case['size']
        polys = [[np.array(p, dtype=np.float64)] for p in case['polys']]
        ignored = [[np.array(p, dtype=np.float64)] for p in case['ignored']]
        results = dict(img_shape=(h, w, 3), mask_fields=['gt_masks', 'gt_masks_ignore'],
                       bbox_fields=[], gt_masks=PolygonMasks(polys, h, w),
                       gt_masks_ignore=PolygonMasks(ignored, h, w))
        results = PANetTargets(**case['args'])(results)
        out.append(dict(gt_kernels=np.stack(results['gt_kernels'].masks),
                        gt_mask=results['gt_mask'].masks[0]))
    return out


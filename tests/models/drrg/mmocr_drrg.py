"""Ref side of test_drrg_parity.py and test_drrg_targets_parity.py: MMOCR 0.6.3's DRRG (and
mmcv's RoIAlignRotated, lanms-neo) on the tests' weights, batches, polygons and maps."""
import contextlib
import copy

import numpy as np
import torch
from mmdet.core import BitmapMasks, PolygonMasks
from mmocr.models.builder import build_head

from mmocr_common import build_model, detector_run, load_config, seed_all, state_of

# MMOCR 0.6.3 was written for numpy < 1.24, which still had these aliases
np.bool = bool
np.int = int


@contextlib.contextmanager
def stable_argsort():
    """``np.argsort`` with a stable default while MMOCR runs: its proposals and neighbour
    orders otherwise follow quicksort's tie order, which differs between numpy 1.26 and 2.x
    (and CPUs); ocr_ds sorts stably."""
    argsort = np.argsort

    def stable(a, axis=-1, kind=None, order=None):
        return argsort(a, axis=axis, kind=kind or 'stable', order=order)
    np.argsort = stable
    try:
        yield
    finally:
        np.argsort = argsort


def roi_align(cases):
    """mmcv's RoIAlignRotated forward and input gradient (of ``sum(out * weight)``)."""
    from mmcv.ops import RoIAlignRotated
    out = []
    for feats, rois, kwargs, weight in cases:
        feats = feats.clone().requires_grad_(True)
        pooled = RoIAlignRotated(**kwargs)(feats, rois)
        (pooled * weight).sum().backward()
        out.append(dict(out=pooled.detach(), grad=feats.grad))
    return out


def model_cfg(config):
    cfg = load_config(config)['model']
    cfg['backbone'].pop('init_cfg', None)          # would download torchvision weights
    return cfg


def model_run(config, seed, img, maps, comp_attribs, checkpoint):
    """``detector_run`` from ``seed`` on (img, maps, comp_attribs); then the eval head maps
    of img[:1]."""
    model = build_model(model_cfg(config), seed=seed)
    h, w = img.shape[2:]
    targets = {k: [BitmapMasks([m.numpy()], h, w) for m in v] for k, v in maps.items()}
    targets['gt_comp_attribs'] = [a.numpy() for a in comp_attribs]
    out = detector_run(model, img, targets, checkpoint)
    model.eval()
    with torch.no_grad():
        out['eval_maps'] = model.bbox_head.out_conv(model.extract_feat(img[:1])).clone()
    return out


def head_init(head_cfg, seed):
    """DRRGHead built alone from ``seed``, then init_weights()."""
    seed_all(seed)
    head = build_head(copy.deepcopy(head_cfg))
    head.init_weights()
    return state_of(head)


def decode(head_cfg, state, cases):
    """Per case (features ``(1, C, H, W)``, scale factor): the proposal graphs, the edges and
    scores ``single_test`` gives, and ``get_boundary``'s boundaries."""
    head = build_head(copy.deepcopy(head_cfg))
    head.load_state_dict(state)
    head.eval()
    out = []
    for feats, scale_factor in cases:
        with torch.no_grad(), stable_argsort():
            pred_maps = head.out_conv(feats)
            none_flag, graph = head.graph_test(pred_maps, torch.cat([feats, pred_maps], 1))
            edges, scores, comps = head.single_test(feats)
        meta = dict(scale_factor=scale_factor.numpy())
        result = dict(none=none_flag)
        if not none_flag:
            result.update(node_feats=graph[0], adjacent=graph[1], knn=graph[2],
                          local_graphs=graph[3], comps=graph[4].copy(), edges=edges,
                          scores=scores.copy())
        result['boundaries'] = head.get_boundary(edges, scores, comps, [meta],
                                                 True)['boundary_result']
        out.append(result)
    return out


def postprocess(link_thr, cases):
    """DRRGPostprocessor on (edges, scores, components) cases."""
    from mmocr.models.builder import build_postprocessor
    post = build_postprocessor(dict(type='DRRGPostprocessor', link_thr=link_thr))
    return [post(e.numpy(), s.numpy().copy(), c.numpy()) for e, s, c in cases]


def losses(cases):
    """DRRGLoss on (pred maps, gcn logits, gcn labels, downsample ratio, targets) cases."""
    from mmocr.models.builder import build_loss
    loss = build_loss(dict(type='DRRGLoss'))
    out = []
    for pred, gcn_pred, gcn_labels, ratio, maps in cases:
        pred = pred.clone().requires_grad_(True)
        h, w = maps['gt_text_mask'].shape[1:]
        targets = {k: [BitmapMasks([m.numpy()], h, w) for m in v] for k, v in maps.items()}
        result = loss((pred, (gcn_pred, gcn_labels)), ratio, **targets)
        sum(result.values()).backward()
        out.append(dict(losses={k: v.detach() for k, v in result.items()}, grad=pred.grad))
    return out


def targets(cases, seed):
    """DRRGTargets on (image size, polygons, ignored polygons) cases, numpy seeded once."""
    from mmocr.datasets.pipelines.textdet_targets import DRRGTargets
    np.random.seed(seed)
    step = DRRGTargets()
    out = []
    for (h, w), polys, ignored in cases:
        results = dict(img_shape=(h, w, 3), mask_fields=['gt_masks', 'gt_masks_ignore'],
                       gt_masks=PolygonMasks([[p.numpy()] for p in polys], h, w),
                       gt_masks_ignore=PolygonMasks([[p.numpy()] for p in ignored], h, w))
        results = step(results)
        maps = {k: torch.from_numpy(results[k].masks[0].copy()) for k in (
            'gt_text_mask', 'gt_center_region_mask', 'gt_mask', 'gt_top_height_map',
            'gt_bot_height_map', 'gt_sin_map', 'gt_cos_map')}
        maps['gt_comp_attribs'] = torch.from_numpy(results['gt_comp_attribs'])
        out.append(maps)
    return out

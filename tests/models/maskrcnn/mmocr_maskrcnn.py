"""Ref side of test_maskrcnn_parity.py: MMOCR 0.6.3's OCRMaskRCNN (mmdet 2.28.2's Mask R-CNN)
and mmcv 1.7.2's RoIAlign / nms on the test's weights, batch and boxes."""
import copy

import numpy as np
import torch
from mmcv import ConfigDict
from mmcv.ops import batched_nms, nms, roi_align
from mmdet.core import BitmapMasks
from mmdet.models.detectors import MaskRCNN

from mmocr_common import (build_model, grads_of, load_config, publish_checkpoint, seed_all,
                          state_of)

np.bool = bool
np.int = int


def roi_ops(feat, rois, cases, boxes, scores, idxs, iou_thr):
    """mmcv's roi_align (aligned, avg) forward and input gradient for each
    ``(output_size, spatial_scale, sampling_ratio, grad_output)``; nms and batched_nms."""
    out = []
    for size, scale, ratio, grad in cases:
        x = feat.clone().requires_grad_()
        y = roi_align(x, rois, size, scale, ratio, 'avg', True)
        (y * grad).sum().backward()
        out.append(dict(out=y.detach(), grad=x.grad))
    dets, keep = nms(boxes, scores, iou_thr)
    bdets, bkeep = batched_nms(boxes, scores, idxs, dict(type='nms', iou_threshold=iou_thr))
    return dict(roi=out, nms=dict(dets=dets, keep=keep), batched=dict(dets=bdets, keep=bkeep))


def config_state(configs):
    """Per config: state-dict shapes of MMOCR's model as built, not initialised."""
    out = {}
    for path in configs:
        cfg = load_config(path)['model']
        cfg['backbone'].pop('init_cfg', None)
        model = build_model(ConfigDict(cfg), init=False)
        out[path] = {k: list(v.shape) for k, v in model.state_dict().items()}
    return out


def publish(config, checkpoint):
    """MMOCR's model of ``config`` (seeded, initialised) published as its zoo does."""
    cfg = load_config(config)['model']
    cfg['backbone'].pop('init_cfg', None)
    publish_checkpoint(build_model(ConfigDict(cfg), seed=0), checkpoint)
    return checkpoint


def model_run(cfg, seed, sample_seed, img, metas, gt_bboxes, gt_labels, gt_masks, test_meta):
    """Built from ``seed``: the state; train losses and gradients with the samplers seeded by
    ``sample_seed``; then eval results of img[:1] (mmdet's raw bbox/segm results and MMOCR's
    boundaries)."""
    test_meta = dict(test_meta, scale_factor=np.asarray(test_meta['scale_factor'], np.float32))
    model = build_model(ConfigDict(copy.deepcopy(cfg)), seed=seed)
    out = dict(state=state_of(model))
    model.train()
    masks = [BitmapMasks(m.numpy(), *m.shape[1:]) for m in gt_masks]
    seed_all(sample_seed)
    losses = model.forward_train(img, [dict(m) for m in metas], gt_bboxes, gt_labels,
                                 gt_masks=masks)
    loss, _ = model._parse_losses(losses)
    loss.backward()
    out['losses'] = {k: ([t.detach() for t in v] if isinstance(v, list) else v.detach())
                     for k, v in losses.items()}
    out['grads'] = grads_of(model)
    model.eval()
    with torch.no_grad():
        raw = MaskRCNN.simple_test(model, img[:1], [test_meta], rescale=True)[0]
        out['bboxes'] = raw[0]
        out['segms'] = [np.stack(s) if len(s) else np.zeros((0,)) for s in raw[1]]
        out['boundaries'] = model.simple_test(img[:1], [test_meta], rescale=True)[0][
            'boundary_result']
    return out


def train_pipeline(steps, img, bboxes, labels, polys, seeds):
    """mmdet/MMOCR's pipeline ``steps`` (after LoadImageFromFile) on a fresh sample per numpy
    seed: the image, boxes, labels, instance masks and metas it collects."""
    from mmdet.datasets.pipelines import Compose
    import mmocr.datasets  # noqa: F401 (registers MMOCR's pipelines)
    pipe = Compose([dict(s) for s in steps])
    out = []
    for seed in seeds:
        im = img.numpy().copy()
        h, w = im.shape[:2]
        res = dict(img=im, img_shape=im.shape, ori_shape=im.shape, filename='x.jpg',
                   ori_filename='x.jpg', img_fields=['img'],
                   img_info=dict(filename='x.jpg', height=h, width=w),
                   ann_info=dict(bboxes=bboxes.numpy().copy(), labels=labels.numpy().copy(),
                                 masks=[[p.tolist()] for p in polys],
                                 bboxes_ignore=np.zeros((0, 4), np.float32), masks_ignore=[]),
                   bbox_fields=[], mask_fields=[], seg_fields=[])
        np.random.seed(seed)
        res = pipe(res)
        metas = res['img_metas'].data
        out.append(dict(img=res['img'].data, gt_bboxes=res['gt_bboxes'].data,
                        gt_labels=res['gt_labels'].data,
                        gt_masks=torch.from_numpy(np.asarray(res['gt_masks'].data.masks)),
                        metas={k: metas[k] for k in ('img_shape', 'pad_shape', 'flip',
                                                     'scale_factor')}))
    return out


def test_pipeline(steps, img):
    """mmdet's test pipeline ``steps`` (after LoadImageFromFile) on ``img``: the image tensor
    and metas of its one view."""
    from mmdet.datasets.pipelines import Compose
    import mmocr.datasets  # noqa: F401 (registers MMOCR's pipelines)
    im = img.numpy().copy()
    res = Compose([dict(s) for s in steps])(dict(
        img=im, img_shape=im.shape, ori_shape=im.shape, filename='x.jpg', ori_filename='x.jpg',
        img_fields=['img']))
    metas = res['img_metas'][0].data
    return dict(img=res['img'][0], metas={k: metas[k] for k in (
        'img_shape', 'ori_shape', 'pad_shape', 'scale_factor', 'flip')})

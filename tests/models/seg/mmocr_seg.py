"""Ref side of test_seg_parity.py: MMOCR 0.6.3's SegRecognizer (FPNOCR, SegHead, SegLoss),
SegConvertor, OCRSegTargets, the SegOCR pipeline steps and OCRSegDataset."""
import copy

import numpy as np
import torch
from mmdet.core import BitmapMasks
from mmocr.models.builder import build_convertor, build_loss

from mmocr_common import build_model, grads_of, load_config, publish_checkpoint, state_of


def _masks(gt_kernels):
    """Our (N, 3, H, W) int tensor -> MMOCR's list of BitmapMasks."""
    return [BitmapMasks(list(k.numpy()), k.shape[-2], k.shape[-1]) for k in gt_kernels]


def model_run(model_cfg, seed, img, img_metas, gt_kernels, checkpoint):
    """A seeded SegRecognizer: initial state (also written as a published checkpoint), its
    train logits, loss and gradients, its test logits and results; and the keys/shapes of the
    model of MMOCR's own seg.py (on the meta device)."""
    real = load_config('_base_/recog_models/seg.py')['model']
    with torch.device('meta'):
        shapes = {k: tuple(v.shape) for k, v in build_model(real, init=False).state_dict().items()}
    model = build_model(model_cfg, seed=seed)
    state = state_of(model)
    publish_checkpoint(model, checkpoint)
    outs = []
    model.head.register_forward_hook(lambda m, i, o: outs.append(o.detach().clone()))
    model.train()
    losses = model.forward_train(img, copy.deepcopy(img_metas), _masks(gt_kernels))
    losses['loss_seg'].backward()
    model.eval()
    with torch.no_grad():
        results = model.simple_test(img, copy.deepcopy(img_metas))
    return dict(config=real, shapes=shapes, state=state, losses=losses['loss_seg'].detach(),
                grads=grads_of(model), train_out=outs[0], test_out=outs[1],
                texts=[r['text'] for r in results],
                scores=[[float(s) for s in r['score']] for r in results])


def convertor_cases(cfg, cases):
    """SegConvertor's classes and its decoding of each case's (N, C, H, W) scores."""
    conv = build_convertor(copy.deepcopy(cfg))
    out = dict(idx2char=list(conv.idx2char), unknown_idx=conv.unknown_idx,
               num_classes=conv.num_classes(), decoded=[])
    for case in cases:
        texts, scores = conv.tensor2str(case['output'], copy.deepcopy(case['metas']))
        out['decoded'].append(dict(texts=texts, scores=[[float(s) for s in row]
                                                        for row in scores]))
    return out


def loss_cases(cases):
    """SegLoss (with its arguments): the loss and the logits' gradient."""
    out = []
    for case in cases:
        loss = build_loss(dict(type='SegLoss', **case['args']))
        logits = case['logits'].clone().requires_grad_(True)
        value = loss(None, logits, _masks(case['gt_kernels']))['loss_seg']
        value.backward()
        out.append(dict(loss=value.detach(), grad=logits.grad))
    return out


def _rotate_with_old_torchvision():
    """MMOCR 0.6.3 calls ``TF.rotate(..., resample=False)``, which the torchvision of its time
    read as nearest-neighbour interpolation (``False`` == 0) and 0.28 rejects: drop the
    argument (0.28's default interpolation is nearest)."""
    import torchvision.transforms.functional as TF
    if getattr(TF.rotate, '_seg_patched', False):
        return
    rotate = TF.rotate

    def patched(img, angle, *args, resample=None, **kwargs):
        return rotate(img, angle, *args, **kwargs)

    patched._seg_patched = True
    TF.rotate = patched


def augment(steps, cases):
    """MMOCR's ``steps`` (mmdet Compose) on each case's image and character boxes, numpy and
    torch seeded: the image, shapes, boxes and target maps that come out."""
    import mmocr.datasets  # noqa: F401  (registers MMOCR's steps)
    from mmdet.datasets.pipelines import Compose
    _rotate_with_old_torchvision()
    pipe = Compose(copy.deepcopy(steps))
    outs = []
    for case in cases:
        img = case['img'].numpy().astype(np.uint8)
        np.random.seed(case['seed'])
        torch.manual_seed(case['seed'])
        data = pipe(dict(img=img, img_shape=img.shape, ori_shape=img.shape, filename='x.png',
                         ann_info=copy.deepcopy(case['ann_info'])))
        out = dict(img=data['img'] if torch.is_tensor(data['img']) else
                   torch.as_tensor(np.ascontiguousarray(np.asarray(data['img']))),
                   img_shape=list(data['img_shape']), ann_info=data['ann_info'])
        for key in ('resize_shape', 'pad_shape'):
            if key in data:
                out[key] = list(data[key])
        if 'gt_kernels' in data:
            out['gt_kernels'] = torch.as_tensor(data['gt_kernels'].masks)
        outs.append(out)
    return outs


def targets_cases(convertor, box_type, cases):
    """OCRSegTargets on given shapes and boxes: its (3, H, W) maps, or the error it raises."""
    from mmocr.datasets.pipelines import OCRSegTargets
    step = OCRSegTargets(label_convertor=copy.deepcopy(convertor), box_type=box_type)
    out = []
    for case in cases:
        try:
            data = step(copy.deepcopy(case))
            out.append(torch.as_tensor(data['gt_kernels'].masks))
        except Exception as exc:  # noqa: BLE001  (the kind of failure is compared)
            out.append(f'error: {type(exc).__name__}')
    return out


def dataset_run(ann_file, img_prefix, results, metric='acc'):
    """OCRSegDataset: each annotation's parsed ann_info (or the error), and evaluate()."""
    from mmocr.datasets import build_dataset
    ds = build_dataset(dict(
        type='OCRSegDataset', img_prefix=img_prefix, ann_file=ann_file, pipeline=[],
        loader=dict(type='AnnFileLoader', repeat=1, file_format='txt',
                    parser=dict(type='LineJsonParser',
                                keys=['file_name', 'annotations', 'text'])),
        test_mode=True))
    parsed = []
    for i in range(len(ds)):
        try:
            parsed.append(ds._parse_anno_info(ds.data_infos[i]['annotations']))
        except Exception as exc:  # noqa: BLE001
            parsed.append(f'error: {type(exc).__name__}')
    return dict(parsed=parsed, metrics=ds.evaluate(results, metric=metric), size=len(ds))


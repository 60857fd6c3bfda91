"""Ref side (MMOCR 0.6.3 venv) of the encoder-decoder recognition parity tests: convertors,
losses, ResNet31OCR, the SAR pipeline steps, and whole recognisers (SAR, RobustScanner, ...)
run in training mode (teacher forcing, loss, gradients) and test mode (greedy decoding)."""
import copy

import numpy as np
import torch
from mmocr.models.builder import build_convertor, build_loss

from mmocr_common import build_model, grads_of, publish_checkpoint, seed_all, state_of


def convertor(cfg, texts, outputs):
    conv = build_convertor(copy.deepcopy(cfg))
    enc = conv.str2tensor(list(texts))
    indexes, scores = conv.tensor2idx(outputs)
    return dict(idx2char=list(conv.idx2char), start_idx=conv.start_idx, end_idx=conv.end_idx,
                padding_idx=conv.padding_idx, unknown_idx=conv.unknown_idx,
                num_classes=conv.num_classes(), targets=enc['targets'],
                padded_targets=enc['padded_targets'], indexes=indexes, scores=scores,
                texts=conv.idx2str(indexes))


def losses(cfgs, outputs, padded_targets):
    """Each loss config on the same logits: the loss and the logits' gradient."""
    out = []
    for cfg in cfgs:
        logits = outputs.clone().requires_grad_(True)
        loss = build_loss(copy.deepcopy(cfg))(logits, dict(padded_targets=padded_targets))
        value = loss['loss_ce']
        value.sum().backward()
        out.append(dict(loss=value.detach(), grad=logits.grad))
    return out


def init_stats_by_seed(model_cfg, seed):
    """Keys, shapes and per-tensor (mean, std, sum of squares) of a seeded, initialised model:
    small to send, and equal to ours only if every tensor was drawn the same way."""
    model = build_model(model_cfg, seed=seed)
    out = {}
    for k, v in model.state_dict().items():
        v = v.double()
        out[k] = (tuple(v.shape), float(v.mean()) if v.numel() else 0.0,
                  float(v.std()) if v.numel() > 1 else 0.0, float((v * v).sum()))
    return out


def recognizer(model_cfg, seed, img, img_metas, train_seed, checkpoint=None):
    """Build, init, then one training forward/backward and one test forward on ``img``."""
    model = build_model(model_cfg, seed=seed)
    captured = []
    model.decoder.register_forward_hook(lambda m, i, o: captured.append(o.detach().clone()))
    state = state_of(model)
    if checkpoint:
        publish_checkpoint(model, checkpoint)
    model.train()
    seed_all(train_seed)
    loss_dict = model(img.clone(), copy.deepcopy(img_metas), return_loss=True)
    total = sum(v.mean() for k, v in loss_dict.items() if 'loss' in k)
    total.backward()
    grads = grads_of(model)
    model.eval()
    with torch.no_grad():
        results = model(img.clone(), copy.deepcopy(img_metas), return_loss=False)
    return dict(state=state, losses={k: v.detach() for k, v in loss_dict.items()},
                grads=grads, train_out=captured[0], test_out=captured[1],
                texts=[r['text'] for r in results], scores=[list(r['score']) for r in results])


def pipeline(steps, images, texts):
    """MMOCR's pipeline (from ``steps``) on BGR uint8 arrays: the image tensors and metas."""
    import mmocr.datasets  # noqa: F401  (registers MMOCR's steps)
    from mmdet.datasets.pipelines import Compose as MMDetCompose
    pipe = MMDetCompose(copy.deepcopy(steps))
    out = []
    for img, text in zip(images, texts):
        img = img.numpy().astype(np.uint8)
        results = dict(img=img, img_shape=img.shape, ori_shape=img.shape, filename='x.png',
                       ori_filename='x.png', text=text, img_info=dict(filename='x.png'))
        data = pipe(results)
        unwrap = lambda v: v.data if hasattr(v, 'data') and not torch.is_tensor(v) else v  # noqa
        if isinstance(data['img_metas'], list):  # MultiRotateAugOCR: one entry per view
            out.append(dict(img=[unwrap(i) for i in data['img']],
                            metas=[unwrap(m) for m in data['img_metas']]))
        else:
            out.append(dict(img=unwrap(data['img']), metas=unwrap(data['img_metas'])))
    return out


def model_shapes(model_cfgs):
    """Keys and shapes of each model, built on the meta device (nothing allocated)."""
    out = []
    for cfg in model_cfgs:
        with torch.device('meta'):
            model = build_model(cfg, init=False)
        out.append({k: tuple(v.shape) for k, v in model.state_dict().items()})
    return out


def backbone(cfg, seed, x):
    """A backbone, seeded and initialised: its state and its output in train and eval mode."""
    from mmocr.models.builder import build_backbone
    seed_all(seed)
    net = build_backbone(copy.deepcopy(cfg))
    net.init_weights()
    state = state_of(net)
    train_out = net.train()(x)
    with torch.no_grad():
        eval_out = net.eval()(x)
    return dict(state=state, train_out=tuple(o.detach() for o in train_out)
                if isinstance(train_out, tuple) else train_out.detach(),
                eval_out=eval_out)


def aug_test(model_cfg, seed, steps, images):
    """MMOCR's test: its pipeline (``MultiRotateAugOCR``) and ``aug_test``, one image a batch."""
    import mmocr.datasets  # noqa: F401
    from mmdet.datasets.pipelines import Compose as MMDetCompose
    model = build_model(model_cfg, seed=seed).eval()
    pipe = MMDetCompose(copy.deepcopy(steps))
    out = []
    for img in images:
        img = img.numpy().astype(np.uint8)
        data = pipe(dict(img=img, img_shape=img.shape, ori_shape=img.shape, filename='x.png',
                         ori_filename='x.png', img_info=dict(filename='x.png')))
        imgs = [i.data.unsqueeze(0) for i in data['img']]
        metas = [[m.data] for m in data['img_metas']]
        with torch.no_grad():
            result = model(imgs, metas, return_loss=False)[0]
        out.append(dict(text=result['text'], score=float(result['score']), views=len(imgs)))
    return out

"""Ref side of test_dbnet_parity.py: MMOCR 0.6.3's DBNet, DBNet++ and their parts."""
import copy

import torch
from mmdet.core import BitmapMasks
from mmocr.models.textdet.losses import DBLoss
from mmocr.models.textdet.postprocess import DBPostprocessor

from mmocr_common import build_model, grads_of, load_config, state_of


def model_cfg(config, narrow):
    """The model dict of an MMOCR config file; ``narrow``: a 16-wide ResNet (and neck to
    match) so values stay small; the pretrained backbone file is never loaded."""
    cfg = copy.deepcopy(load_config(config)["model"])
    cfg["backbone"]["init_cfg"] = None
    if narrow:
        cfg["backbone"]["base_channels"] = 16
        expansion = 4 if cfg["backbone"]["depth"] >= 50 else 1
        cfg["neck"]["in_channels"] = [16 * expansion * 2**i for i in range(4)]
        cfg["neck"]["lateral_channels"] = 32
        cfg["neck"]["out_channels"] = 8
        cfg["bbox_head"]["in_channels"] = 32
    return cfg


def shapes(config):
    """Key -> shape of the full-size model of ``config``."""
    model = build_model(model_cfg(config, narrow=False), init=False)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def _masks(batch, key):
    return [BitmapMasks(m[None].numpy(), *m.shape) for m in batch[key]]


def run_model(config, seed, batch):
    """The narrowed model of ``config`` from ``seed``: its initial state, the losses and
    gradients of one train-mode step on ``batch``, the state after it (BN statistics), and the
    head's maps in eval mode."""
    model = build_model(model_cfg(config, narrow=True), seed=seed)
    init = state_of(model)
    model.train()
    img = batch["img"].clone()
    losses = model.forward_train(img, [{} for _ in range(len(img))],
                                 **{k: _masks(batch, k) for k in
                                    ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask")})
    sum(losses.values()).backward()
    out = dict(init=init, losses={k: v.detach() for k, v in losses.items()},
               grads=grads_of(model), state=state_of(model))
    model.eval()
    with torch.no_grad():
        out["maps"] = model.bbox_head(model.extract_feat(img))
    return out


def run_loss(cases):
    """MMOCR's DBLoss on given maps: each case ``preds``, the four targets, loss args."""
    results = []
    for case in cases:
        preds = case["preds"].clone().requires_grad_(True)
        loss = DBLoss(**case["args"])(preds, 1.0, **{k: _masks(case, k) for k in
                                                     ("gt_shrink", "gt_shrink_mask", "gt_thr",
                                                      "gt_thr_mask")})
        sum(loss.values()).backward()
        results.append(dict(loss={k: v.detach() for k, v in loss.items()}, grad=preds.grad))
    return results


def run_postprocess(cases):
    """MMOCR's DBPostprocessor on given maps: each case ``maps`` and postprocessor args."""
    return [DBPostprocessor(**case["args"])(case["maps"]) for case in cases]

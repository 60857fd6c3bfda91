"""Ref side (runs in the MMOCR 0.6.3 venv only): generic helpers the family ref-side modules use.

Import it from a ref-side module with ``from mmocr_common import ...`` (ref_server.py puts
this directory on ``sys.path``). Never imported by pytest.
"""
import copy
import os
import random

import mmocr
import numpy as np
import torch
from mmcv import Config

CONFIGS = os.path.join(os.path.dirname(mmocr.__file__), ".mim", "configs")


def seed_all(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_config(path):
    """An MMOCR 0.6.3 config file (relative to its configs/ dir, or absolute) as a plain dict."""
    if not os.path.isabs(path):
        path = os.path.join(CONFIGS, path)
    return Config.fromfile(path)._cfg_dict.to_dict()


def config_text(path):
    """The raw text of an MMOCR config file."""
    with open(os.path.join(CONFIGS, path)) as f:
        return f.read()


def build_model(model_cfg, seed=None, init=True):
    """MMOCR's model from a model dict (detector or recogniser), ``init_weights()`` as
    tools/train.py does; pretrained ``init_cfg``s (which would download) must be removed by the
    caller."""
    from mmocr.models import build_detector
    if seed is not None:
        seed_all(seed)
    model = build_detector(copy.deepcopy(model_cfg))
    if init:
        model.init_weights()
    return model


def state_of(model):
    """The state dict as plain tensors (cloned)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def load_state(model, state):
    """Load a state dict strictly (every key, every shape)."""
    model.load_state_dict(state, strict=True)
    return model


def grads_of(model):
    return {k: p.grad.detach().clone() for k, p in model.named_parameters()
            if p.grad is not None}


def split_grads(model):
    """The gradients of everything but the backbone, and the norm of each backbone gradient
    (a detector's reply stays small; the backbone has its own tests)."""
    grads = grads_of(model)
    return dict(grads={k: g for k, g in grads.items() if not k.startswith('backbone.')},
                backbone_grad_norms={k: float(g.norm()) for k, g in grads.items()
                                     if k.startswith('backbone.')})


def init_stats(model):
    """Per-tensor mean and std of every floating parameter and buffer."""
    out = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point() and v.numel() > 1:
            out[k] = (float(v.float().mean()), float(v.float().std()))
        elif v.is_floating_point():
            out[k] = (float(v.float().mean()), 0.0)
    return out


def publish_checkpoint(model, path):
    """Write ``model`` as MMOCR's model zoo has it: ``mmcv.runner.save_checkpoint``, then what
    ``tools/publish_model.py``'s ``process_checkpoint`` does (drop the optimizer, meta reduced to
    ``{'CLASSES': 0}``, torch's legacy non-zip serialisation); without its hash-suffix rename."""
    from mmcv.runner import save_checkpoint
    tmp = path + ".full"
    save_checkpoint(model, tmp, meta=dict(mmocr_version=mmocr.__version__))
    checkpoint = torch.load(tmp, map_location="cpu", weights_only=False)
    checkpoint.pop("optimizer", None)
    if "meta" in checkpoint:
        checkpoint["meta"] = {"CLASSES": 0}
    torch.save(checkpoint, path, _use_new_zipfile_serialization=False)
    os.remove(tmp)
    return path


def detector_run(model, img, targets, checkpoint):
    """A freshly built, initialised detector: its init statistics and shapes, written as
    MMOCR's checkpoint file (the weights cross as a file: a 100 MB reply would cost seconds),
    then its train losses and gradients on (img, targets); ``parity.check_detector`` is our
    side."""
    out = dict(init=init_stats(model), shapes={k: list(v.shape) for k, v in
                                                model.state_dict().items()})
    publish_checkpoint(model, checkpoint)
    model.train()
    metas = [dict(img_shape=tuple(img.shape[2:]) + (3,)) for _ in range(len(img))]
    losses = model.forward_train(img, metas, **targets)
    sum(losses.values()).backward()
    out.update(losses={k: v.detach() for k, v in losses.items()}, **split_grads(model))
    return out


def pipeline_steps(steps, images, seed):
    """MMOCR's steps on BGR uint8 images after seeding python, numpy and torch: the images
    (and shapes) they give."""
    import mmocr.datasets  # noqa: F401  (registers MMOCR's steps)
    from mmdet.datasets.pipelines import Compose
    seed_all(seed)
    pipe = Compose(copy.deepcopy(steps))
    out = []
    for img in images:
        img = img.numpy().astype(np.uint8)
        res = pipe(dict(img=img, img_shape=img.shape, ori_shape=img.shape))
        out.append(dict(img=torch.from_numpy(np.ascontiguousarray(res['img'])),
                        img_shape=list(res['img_shape'])))
    return out

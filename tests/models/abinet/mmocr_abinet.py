"""Ref side (MMOCR 0.6.3 venv) of the ABINet parity tests: a whole ABINet (vision model,
language model, fuser) trained one step with dropout on and run in test mode, every
intermediate output captured; and the ABINet pipeline steps on a fixed RNG."""
import copy

import numpy as np
import torch

from mmocr_common import (build_model, grads_of, pipeline_steps,  # noqa: F401
                          publish_checkpoint, seed_all, state_of)


def _capture(model):
    """Record the encoder's, each decoder call's and each fuser call's output."""
    seen = dict(enc=[], dec=[], fuser=[])

    def keep(name):
        def hook(module, args, out):
            seen[name].append({k: v.detach().clone() for k, v in out.items()})
        return hook
    model.encoder.register_forward_hook(keep('enc'))
    if model.decoder is not None:
        model.decoder.register_forward_hook(keep('dec'))
    if model.fuser is not None:
        model.fuser.register_forward_hook(keep('fuser'))
    return seen


def abinet(model_cfg, seed, img, img_metas, train_seed, checkpoint=None):
    """Build + init from ``seed``; one training forward/backward (seeded dropout); one test
    forward: states, losses, gradients, every stage's outputs, texts and scores."""
    model = build_model(model_cfg, seed=seed)
    seen = _capture(model)
    state = state_of(model)
    if checkpoint:
        publish_checkpoint(model, checkpoint)
    model.train()
    seed_all(train_seed)
    losses = model(img.clone(), copy.deepcopy(img_metas), return_loss=True)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    train_seen = {k: list(v) for k, v in seen.items()}
    for v in seen.values():
        v.clear()
    model.eval()
    with torch.no_grad():
        results = model(img.clone(), copy.deepcopy(img_metas), return_loss=False)
    return dict(state=state, losses={k: v.detach() for k, v in losses.items()},
                grads=grads_of(model), train=train_seen, test=seen,
                texts=[r['text'] for r in results], scores=[list(r['score']) for r in results])

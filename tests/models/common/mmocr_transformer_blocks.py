"""Ref side of test_transformer_parity.py: MMOCR's and mmcv's transformer layers."""
import torch
from mmcv.cnn.bricks.transformer import BaseTransformerLayer
from mmocr.models.common import PositionalEncoding, TFDecoderLayer, TFEncoderLayer

from mmocr_common import seed_all, state_of


def _run(model, inputs, seed):
    state = state_of(model)
    torch.manual_seed(seed + 1)
    out = model.train()(*inputs)
    out.sum().backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None}
    with torch.no_grad():
        eval_out = model.eval()(*inputs)
    return dict(state=state, train_out=out.detach(), eval_out=eval_out, grads=grads)


def build(kind, kwargs, seed, inputs):
    seed_all(seed)
    cls = dict(encoder=TFEncoderLayer, decoder=TFDecoderLayer, posenc=PositionalEncoding,
               mmcv_layer=BaseTransformerLayer)[kind]
    model = cls(**kwargs)
    if hasattr(model, "init_weights"):
        model.init_weights()
    if kind == "posenc":
        return dict(state=state_of(model), eval_out=model.eval()(*inputs))
    return _run(model, inputs, seed)

"""MMOCR's transformer layers (TFEncoderLayer, TFDecoderLayer, PositionalEncoding) and mmcv's
BaseTransformerLayer (as MASTER and ABINet build it) against their own code: the same seed gives
the same initial weights, and the same weights and input the same outputs and gradients.
Dropout is on in training: the same seed before the forward draws the same masks."""
import pytest
import torch

from ocr_ds.models.common.mmcv_transformer import BaseTransformerLayer
from ocr_ds.models.common.transformer import (PositionalEncoding, TFDecoderLayer,
                                              TFEncoderLayer)
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_transformer_blocks.py")
OURS = dict(encoder=TFEncoderLayer, decoder=TFDecoderLayer, posenc=PositionalEncoding,
            mmcv_layer=BaseTransformerLayer)
X = torch.randn(2, 5, 32, generator=torch.Generator().manual_seed(3))
MEM = torch.randn(2, 7, 32, generator=torch.Generator().manual_seed(4))
MASK = torch.tril(torch.ones(5, 5)).bool().unsqueeze(0).expand(2, 5, 5)

MASTER_LIKE = dict(
    operation_order=("norm", "self_attn", "norm", "cross_attn", "norm", "ffn"),
    attn_cfgs=dict(type="MultiheadAttention", embed_dims=32, num_heads=4, attn_drop=0.1,
                   dropout_layer=dict(type="Dropout", drop_prob=0.1)),
    ffn_cfgs=dict(type="FFN", embed_dims=32, feedforward_channels=64, ffn_drop=0.1,
                  dropout_layer=dict(type="Dropout", drop_prob=0.1)),
    norm_cfg=dict(type="LN"), batch_first=True)
ABINET_LIKE = dict(
    operation_order=("self_attn", "norm", "ffn", "norm"),
    attn_cfgs=dict(type="MultiheadAttention", embed_dims=32, num_heads=4, attn_drop=0.1,
                   dropout_layer=dict(type="Dropout", drop_prob=0.1)),
    ffn_cfgs=dict(type="FFN", embed_dims=32, feedforward_channels=64, ffn_drop=0.1),
    norm_cfg=dict(type="LN"))

CASES = {
    "encoder pre-norm": ("encoder", dict(d_model=32, d_inner=64, n_head=4, d_k=8, d_v=8),
                         (X, MASK)),
    "encoder post-norm relu": ("encoder", dict(d_model=32, d_inner=64, n_head=4, d_k=8, d_v=8,
                                               qkv_bias=True, act_cfg=dict(type="mmcv.ReLU"),
                                               operation_order=("self_attn", "norm", "ffn",
                                                                "norm")), (X, None)),
    "decoder pre-norm": ("decoder", dict(d_model=32, d_inner=64, n_head=4, d_k=8, d_v=8),
                         (X, MEM, MASK, None)),
    "decoder post-norm": ("decoder", dict(d_model=32, d_inner=64, n_head=4, d_k=8, d_v=8,
                                          operation_order=("self_attn", "norm", "enc_dec_attn",
                                                           "norm", "ffn", "norm")),
                          (X, MEM, MASK, None)),
    "MASTER-like mmcv layer": ("mmcv_layer", MASTER_LIKE, (X, MEM, MEM, None, None,
                                                           [torch.zeros(5, 5), None])),
    "ABINet-like mmcv layer (seq-first)": ("mmcv_layer", ABINET_LIKE, (X.transpose(0, 1),)),
    "positional encoding": ("posenc", dict(d_hid=32, n_position=50), (X,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_transformer_layers_equal_mmocr(mmocr_ref, name):
    kind, kwargs, inputs = CASES[name]
    theirs = mmocr_ref.call(REF, "build", kind=kind, kwargs=kwargs, seed=5, inputs=list(inputs))
    torch.manual_seed(5)
    model = OURS[kind](**kwargs)
    if hasattr(model, "init_weights"):
        model.init_weights()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert_same_keys(state, theirs["state"])
    assert_close(state, theirs["state"], rtol=0, atol=0, what="initial state")
    if kind == "posenc":
        assert_close(model.eval()(*inputs), theirs["eval_out"], rtol=0, atol=0)
        return
    torch.manual_seed(6)
    out = model.train()(*inputs)
    out.sum().backward()
    assert_close(out, theirs["train_out"], what="train output")
    assert_close({k: p.grad for k, p in model.named_parameters() if p.grad is not None},
                 theirs["grads"], rtol=1e-5, atol=1e-6, what="grad")
    with torch.no_grad():
        assert_close(model.eval()(*inputs), theirs["eval_out"], what="eval output")

"""The shared blocks against mmcv 1.7.2's: ConvModule names and forward, and the init walk.

The same toy tree (ConvModules in an mmcv ModuleList, in a plain nn.ModuleList and in a
Sequential, plain layers, an init_cfg list with ``layer`` and ``override``) is built on both
sides from one seed: construction and ``init_weights()`` consume the random stream in the same
order, so the initial weights must be *equal*, not just alike.
"""
import pytest
import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList, Sequential
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.init import initialize
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_common_blocks.py")


class Toy(BaseModule):
    def __init__(self, init_cfg):
        super().__init__(init_cfg=init_cfg)
        self.convs = ModuleList([
            ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type="BN")),
            ConvModule(8, 8, 1, act_cfg=dict(type="LeakyReLU", negative_slope=0.1))])
        self.plain = nn.ModuleList([
            ConvModule(8, 8, 3, padding=1, norm_cfg=dict(type="GN", num_groups=2))])
        self.seq = Sequential(ConvModule(8, 8, 3, padding=1, bias=True,
                                         norm_cfg=dict(type="BN"), act_cfg=None),
                              nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))
        self.fc = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        for m in self.convs:
            x = m(x)
        x = self.plain[0](x)
        x = self.seq(x).mean((2, 3))
        return self.fc2(self.fc(x))


INIT_CFGS = {
    "layers+override": [
        dict(type="Xavier", layer="Conv2d", distribution="uniform"),
        dict(type="Constant", val=0.5, bias=1e-4, layer=["_BatchNorm", "GroupNorm"]),
        dict(type="Normal", std=0.01, layer="Linear",
             override=dict(name="fc2", type="Constant", val=0.25, bias_prob=0.01))],
    "kaiming+name-only override": dict(type="Kaiming", layer="_ConvNd", mode="fan_in",
                                        override=dict(name="fc")),
    "no match": dict(type="Uniform", a=-1, b=1, layer="NoSuchLayer"),
    "none": None,
}


@pytest.mark.parametrize("name", list(INIT_CFGS))
def test_init_walk_and_forward_equal_mmcv(mmocr_ref, name):
    x = torch.randn(2, 3, 12, 12, generator=torch.Generator().manual_seed(1))
    theirs = mmocr_ref.call(REF, "build", init_cfg=INIT_CFGS[name], seed=7, x=x)
    torch.manual_seed(7)
    model = Toy(INIT_CFGS[name])
    model.init_weights()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert_same_keys(state, theirs["state"])
    assert_close(state, theirs["state"], rtol=0, atol=0, what="initial state")
    out = model.train()(x)
    out.sum().backward()
    assert_close(out, theirs["train_out"], what="train output")
    assert_close({k: p.grad for k, p in model.named_parameters()}, theirs["grads"], what="grad")
    assert_close(model.eval()(x), theirs["eval_out"], what="eval output")


def test_convmodule_child_names():
    names = set(ConvModule(3, 4, 3, norm_cfg=dict(type="GN", num_groups=2)).state_dict())
    assert names == {"conv.weight", "gn.weight", "gn.bias"}
    names = set(ConvModule(3, 4, 3, norm_cfg=dict(type="SyncBN")).state_dict())
    assert names == {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean",
                     "bn.running_var", "bn.num_batches_tracked"}
    assert set(ConvModule(3, 4, 1).state_dict()) == {"conv.weight", "conv.bias"}


def test_init_cfg_errors_name_the_key():
    with pytest.raises(UserError, match=r"init_cfg.type: unknown 'Kaiminng'"):
        initialize(nn.Linear(2, 2), dict(type="Kaiminng", layer="Linear"))
    with pytest.raises(UserError, match=r"init_cfg.1.val: expected a number"):
        initialize(nn.Linear(2, 2), [dict(type="Normal"), dict(type="Constant", layer="Linear")])
    with pytest.raises(UserError, match=r"init_cfg.override.name: Linear has no child 'head'"):
        initialize(nn.Linear(2, 2), dict(type="Normal", override=dict(name="head")))
    with pytest.raises(UserError, match=r"norm_cfg.type: unknown 'BNN'"):
        ConvModule(3, 4, 3, norm_cfg=dict(type="BNN"))

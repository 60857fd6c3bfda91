"""Ref side of test_common_parity.py: the same toy module tree built from mmcv's own classes."""
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.runner import BaseModule, ModuleList, Sequential

from mmocr_common import seed_all, state_of


class Toy(BaseModule):
    def __init__(self, init_cfg):
        super().__init__(init_cfg=init_cfg)
        # an mmcv ModuleList: its ConvModules re-initialise themselves after the parent
        self.convs = ModuleList([
            ConvModule(3, 8, 3, padding=1, norm_cfg=dict(type='BN')),
            ConvModule(8, 8, 1, act_cfg=dict(type='LeakyReLU', negative_slope=0.1))])
        # a torch ModuleList: the walk does not reach its ConvModule
        self.plain = nn.ModuleList([
            ConvModule(8, 8, 3, padding=1, norm_cfg=dict(type='GN', num_groups=2))])
        self.seq = Sequential(ConvModule(8, 8, 3, padding=1, bias=True,
                                         norm_cfg=dict(type='BN'), act_cfg=None),
                              nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))
        self.fc = nn.Linear(4, 5)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        for m in self.convs:
            x = m(x)
        x = self.plain[0](x)
        x = self.seq(x).mean((2, 3))
        return self.fc2(self.fc(x))


def build(init_cfg, seed, x):
    seed_all(seed)
    model = Toy(init_cfg)
    model.init_weights()
    state = state_of(model)
    train_out = model.train()(x)
    train_out.sum().backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    eval_out = model.eval()(x)
    return dict(state=state, train_out=train_out.detach(), eval_out=eval_out.detach(),
                grads=grads)

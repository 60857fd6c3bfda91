"""Norm layers named by norm_cfg (mmdet's ResNet: tests/models/common; FPNC:
tests/models/dbnet)."""
import torch
import torch.nn as nn

from ocr_ds.models.common.norm import SyncBatchNorm2d, build_norm

torch.set_num_threads(1)


def test_syncbn_runs_on_cpu_and_shares_bn_keys():
    layer = build_norm(dict(type="SyncBN"), 4)
    assert isinstance(layer, SyncBatchNorm2d)
    x = torch.randn(2, 4, 3, 3)
    ref = nn.BatchNorm2d(4)
    assert torch.allclose(layer.train()(x), ref.train()(x), atol=1e-6)
    assert set(layer.state_dict()) == set(ref.state_dict())
    frozen = build_norm(dict(type="BN", requires_grad=False), 4)
    assert not any(p.requires_grad for p in frozen.parameters())

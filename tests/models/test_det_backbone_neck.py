"""ResNet (mmdet's interface), norm layers and FPNC: shapes, styles, weights, errors."""
import pytest
import torch
import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.necks import FPNC
from ocr_ds.models.common.norm import SyncBatchNorm2d, build_norm
from ocr_ds.models.common.resnet import ResNet

torch.set_num_threads(1)


def test_resnet18_shapes_and_names():
    net = ResNet(depth=18, base_channels=16).eval()
    outs = net(torch.zeros(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 16, 24), (1, 32, 8, 12), (1, 64, 4, 6),
                                             (1, 128, 2, 3)]
    assert net.out_channels == [16, 32, 64, 128]
    # torchvision's parameter names, so ImageNet weights load as they are
    names = set(net.state_dict())
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight", "layer4.1.bn2.weight"} <= names


def test_resnet50_styles_put_the_stride_in_different_convs():
    caffe = ResNet(depth=50, base_channels=8, style="caffe", out_indices=(3,))
    torch_style = ResNet(depth=50, base_channels=8, style="pytorch", out_indices=(3,))
    assert caffe.layer2[0].conv1.stride == (2, 2) and caffe.layer2[0].conv2.stride == (1, 1)
    assert torch_style.layer2[0].conv1.stride == (1, 1)
    assert torch_style.layer2[0].conv2.stride == (2, 2)
    out = torch_style.eval()(torch.zeros(1, 3, 64, 64))
    assert len(out) == 1 and out[0].shape == (1, 256, 2, 2)


def test_frozen_stages_and_norm_eval():
    net = ResNet(depth=18, base_channels=8, frozen_stages=1, norm_eval=True)
    net.train()
    assert not net.conv1.weight.requires_grad and not net.layer1[0].conv1.weight.requires_grad
    assert net.layer2[0].conv1.weight.requires_grad
    assert not net.layer3[0].bn1.training          # norm_eval keeps BN statistics frozen
    net2 = ResNet(depth=18, base_channels=8, norm_eval=False).train()
    assert net2.layer3[0].bn1.training


def test_pretrained_from_local_file(tmp_path):
    src = ResNet(depth=18, base_channels=8)
    state = {f"backbone.{k}": v for k, v in src.state_dict().items()}
    state["fc.weight"] = torch.zeros(10, 64)           # classifier weights are ignored
    path = tmp_path / "r18.pth"
    torch.save({"state_dict": state}, path)
    dst = ResNet(depth=18, base_channels=8, init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k
    wrong = ResNet(depth=18, base_channels=16)
    torch.save(wrong.state_dict(), tmp_path / "wide.pth")
    with pytest.raises(UserError, match="shape"):
        ResNet(depth=18, base_channels=8, pretrained=str(tmp_path / "wide.pth"))


def test_resnet_errors(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(UserError, match="never downloads"):
        ResNet(depth=18, init_cfg=dict(type="Pretrained", checkpoint="torchvision://resnet18"))
    with pytest.raises(UserError, match="never downloads"):
        ResNet(depth=18, init_cfg=dict(type="Pretrained", checkpoint="https://x/y.pth"))
    with pytest.raises(UserError, match="depth"):
        ResNet(depth=19)
    with pytest.raises(UserError, match="dcn"):
        ResNet(depth=50, dcn=dict(type="DCNv2"))
    with pytest.raises(UserError, match="norm_cfg.type"):
        ResNet(depth=18, norm_cfg=dict(type="NoSuchNorm"))
    with pytest.raises(UserError, match="unknown 'NoSuchNet'"):
        registry.build(registry.COMPONENTS, dict(type="NoSuchNet"), "model.backbone")


def test_syncbn_runs_on_cpu_and_shares_bn_keys():
    layer = build_norm(dict(type="SyncBN"), 4)
    assert isinstance(layer, SyncBatchNorm2d)
    x = torch.randn(2, 4, 3, 3)
    ref = nn.BatchNorm2d(4)
    assert torch.allclose(layer.train()(x), ref.train()(x), atol=1e-6)
    assert set(layer.state_dict()) == set(ref.state_dict())
    frozen = build_norm(dict(type="BN", requires_grad=False), 4)
    assert not any(p.requires_grad for p in frozen.parameters())


def test_fpnc_outputs_at_quarter_resolution():
    feats = [torch.randn(2, c, 32 // 2**i, 48 // 2**i) for i, c in enumerate([8, 16, 32, 64])]
    fpnc = FPNC(in_channels=[8, 16, 32, 64], lateral_channels=16, out_channels=4)
    assert fpnc(feats).shape == (2, 16, 32, 48) and fpnc.out_channels == 16
    with pytest.raises(UserError, match="asf_cfg"):
        FPNC(in_channels=[8], asf_cfg=dict(attention_type="ScaleChannelSpatial"))

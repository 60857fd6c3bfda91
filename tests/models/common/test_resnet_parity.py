"""mmdet's ResNet against mmdet 2.28.2's own: keys and shapes, initialisation from one seed
(bit-identical), train-mode outputs and gradients, BN statistics, eval-mode outputs, frozen
parameters -- R18 and R50, pytorch and caffe styles, DCNv2 stages, deep stem, avg_down,
dilation, GN, frozen stages."""
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.dcn import DeformConv2dPack, ModulatedDeformConv2dPack
from ocr_ds.models.common.resnet import ResNet
from parity import assert_close, assert_close_by_norm, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_resnet.py")

DCN = dict(type="DCNv2", deform_groups=1, fallback_on_stride=False)
CASES = {
    "r18 pytorch": dict(depth=18, base_channels=32, norm_eval=False),
    "r50 caffe frozen": dict(depth=50, base_channels=16, style="caffe", frozen_stages=1),
    "r50 pytorch dcnv2 (MMOCR's DBNet backbone)": dict(
        depth=50, base_channels=16, norm_eval=False, dcn=DCN,
        stage_with_dcn=(False, True, True, True)),
    "r50 deep stem, avg_down, dilation, GN, with_cp": dict(
        depth=50, base_channels=8, deep_stem=True, avg_down=True, dilations=(1, 1, 2, 1),
        strides=(1, 2, 1, 2), norm_cfg=dict(type="GN", num_groups=4), with_cp=True,
        out_indices=(1, 3), zero_init_residual=False),
    "r50 dcn fallback_on_stride (shared-dict quirk)": dict(
        depth=50, base_channels=8, num_stages=3, strides=(1, 2, 2), dilations=(1, 1, 1),
        out_indices=(0, 2), dcn=dict(DCN, fallback_on_stride=True),
        stage_with_dcn=(False, True, True)),
}
# init only: mmcv's DCN v1 op is not compiled in the reference venv (payloads stay small: the
# reference's replies are read in pieces)
INIT_ONLY = {
    "r50 caffe, default init": dict(depth=50, base_channels=32, style="caffe"),
    "r50 dcn v1": dict(depth=50, base_channels=8, dcn=dict(type="DCN", deform_groups=2),
                       stage_with_dcn=(False, False, True, True)),
}


def _inputs(i, cfg):
    g = torch.Generator().manual_seed(100 + i)
    x = torch.randn(2, 3, 64, 64, generator=g)
    outs = ResNet(**cfg).eval()(x)
    return x, [torch.randn(o.shape, generator=g) for o in outs]


def test_resnet_equals_mmdet(mmocr_ref, monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    cases = []
    for i, (name, cfg) in enumerate({**CASES, **INIT_ONLY}.items()):
        x, grad_outs = _inputs(i, cfg) if name in CASES else (None, None)
        cases.append(dict(cfg=cfg, seed=i, x=x, grad_outs=grad_outs))
    theirs = mmocr_ref.call(REF, "run", cases=cases)
    for name, case, ref in zip({**CASES, **INIT_ONLY}, cases, theirs):
        torch.manual_seed(case["seed"])
        model = registry.build(registry.COMPONENTS, dict(type="mmdet.ResNet", **case["cfg"]),
                               "model.backbone")
        model.init_weights()
        init = {k: v.clone() for k, v in model.state_dict().items()}
        assert_same_keys(init, ref["init"])
        assert_close(init, ref["init"], rtol=0, atol=0, what=f"{name}: initial state")
        assert sorted(k for k, p in model.named_parameters() if p.requires_grad) == \
            ref["requires_grad"], name
        if case["x"] is None:
            continue
        x = case["x"].clone().requires_grad_(True)
        outs = model.train()(x)
        assert_close(outs, ref["train_outs"], what=f"{name}: train outputs")
        sum((o * g).sum() for o, g in zip(outs, case["grad_outs"])).backward()
        grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
        grads["input"], ref["grads"]["input"] = x.grad, ref["x_grad"]
        # gradients of a deep net in train mode: BN's backward amplifies the rounding of any
        # change in summation order (mmcv's DCN op, reentrant checkpointing, thread count):
        # equal as tensors to 1e-5, see assert_close_by_norm
        assert_close_by_norm(grads, ref["grads"], what=f"{name}: grads")
        assert_close(model.state_dict(), ref["state"], what=f"{name}: state after a step")
        assert_close(model.eval()(case["x"]), ref["eval_outs"], what=f"{name}: eval outputs")


def test_dcn_stages_and_quirks():
    net = ResNet(depth=50, base_channels=8, dcn=DCN, stage_with_dcn=(False, True, False, True))
    kinds = {name: type(m.conv2) for name in ("layer1", "layer2", "layer3", "layer4")
             for m in [getattr(net, name)[0]]}
    assert kinds["layer1"] is torch.nn.Conv2d and kinds["layer3"] is torch.nn.Conv2d
    assert kinds["layer2"] is ModulatedDeformConv2dPack
    assert kinds["layer4"] is ModulatedDeformConv2dPack
    assert net.layer2[0].conv2.stride == (2, 2) and net.layer2[0].conv2.bias is None
    # mmdet pops fallback_on_stride from the one dict all blocks share: only the first falls back
    fb = ResNet(depth=50, base_channels=8, dcn=dict(DCN, fallback_on_stride=True),
                stage_with_dcn=(False, True, True, True))
    assert type(fb.layer2[0].conv2) is torch.nn.Conv2d
    assert type(fb.layer2[1].conv2) is ModulatedDeformConv2dPack
    v1 = ResNet(depth=50, base_channels=8, dcn=dict(type="DCN"),
                stage_with_dcn=(False, False, False, True))
    assert type(v1.layer4[2].conv2) is DeformConv2dPack
    config = dict(DCN)
    ResNet(depth=50, base_channels=8, dcn=config, stage_with_dcn=(False, True, True, True))
    assert config == DCN                            # the user's config is left as it was


def test_shapes_styles_frozen_and_norm_eval():
    net = ResNet(depth=18, base_channels=16).eval()
    outs = net(torch.zeros(1, 3, 64, 96))
    assert [tuple(o.shape) for o in outs] == [(1, 16, 16, 24), (1, 32, 8, 12), (1, 64, 4, 6),
                                             (1, 128, 2, 3)]
    assert {"conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
            "layer2.0.downsample.0.weight", "layer4.1.bn2.weight"} <= set(net.state_dict())
    caffe = ResNet(depth=50, base_channels=8, style="caffe")
    assert caffe.layer2[0].conv1.stride == (2, 2) and caffe.layer2[0].conv2.stride == (1, 1)
    gn = ResNet(depth=18, base_channels=8, norm_cfg=dict(type="GN", num_groups=2))
    assert "layer1.0.gn1.weight" in gn.state_dict() and gn.norm1 is gn.gn1
    net = ResNet(depth=18, base_channels=8, frozen_stages=1, norm_eval=True).train()
    assert not net.conv1.weight.requires_grad and not net.layer1[0].conv1.weight.requires_grad
    assert net.layer2[0].conv1.weight.requires_grad
    assert not net.layer3[0].bn1.training          # norm_eval keeps BN statistics frozen
    assert ResNet(depth=18, base_channels=8, norm_eval=False).train().layer3[0].bn1.training


def test_pretrained_loads_at_init_weights(tmp_path):
    src = ResNet(depth=18, base_channels=8)
    src.init_weights()
    state = {f"backbone.{k}": v for k, v in src.state_dict().items()}
    state["fc.weight"] = torch.zeros(10, 64)           # classifier weights are ignored
    torch.save({"state_dict": state}, tmp_path / "r18.pth")
    dst = ResNet(depth=18, base_channels=8,
                 init_cfg=dict(type="Pretrained", checkpoint=str(tmp_path / "r18.pth")))
    dst.init_weights()
    for k, v in src.state_dict().items():
        assert torch.equal(dst.state_dict()[k], v), k
    wide = ResNet(depth=18, base_channels=16)
    torch.save(wide.state_dict(), tmp_path / "wide.pth")
    with pytest.raises(UserError, match=r"model.backbone.init_cfg.checkpoint: .*shape"):
        ResNet(depth=18, base_channels=8, pretrained=str(tmp_path / "wide.pth")).init_weights()


def test_resnet_errors(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def offline(url, dst, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(UserError, match=r"cannot download https://download.pytorch.org/models/"
                                        r"resnet18-f37072fd.pth \(OSError"):
        ResNet(depth=18, init_cfg=dict(type="Pretrained",
                                       checkpoint="torchvision://resnet18")).init_weights()
    with pytest.raises(UserError, match=r"cannot download https://x/y.pth \(OSError: network "
                                        r"unreachable\); .* put it at .*checkpoints/y.pth"):
        ResNet(depth=18, init_cfg=dict(type="Pretrained",
                                       checkpoint="https://x/y.pth")).init_weights()
    for kwargs, match in [
            (dict(depth=19), r"model.backbone.depth: expected one of \[18, 34, 50, 101, 152\]"),
            (dict(depth=18, style="tf"), "model.backbone.style"),
            (dict(depth=18, dcn=DCN, stage_with_dcn=(False, True, True, True)),
             "model.backbone.dcn: deformable convolution needs a Bottleneck"),
            (dict(depth=50, dcn=DCN, stage_with_dcn=(True,)), "model.backbone.stage_with_dcn"),
            (dict(depth=50, dcn=dict(type="DCNv3"), stage_with_dcn=(False, True, True, True)),
             r"model.backbone.dcn.type: unknown 'DCNv3'"),
            (dict(depth=50, plugins=[dict(cfg=dict(type="GeneralizedAttention"))]),
             "model.backbone.plugins: ResNet plugins are not supported"),
            (dict(depth=18, norm_cfg=dict(type="NoSuchNorm")), "model.backbone.norm_cfg.type"),
            (dict(depth=18, out_indices=(4,)), "model.backbone.out_indices")]:
        with pytest.raises(UserError, match=match):
            ResNet(**kwargs)

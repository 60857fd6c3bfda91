"""Deformable convolution (``DCNv2``, ``DCN``) against mmcv 1.7.2's compiled op and against a
direct per-pixel loop: outputs and gradients (input, offsets, masks, weight, bias)."""
import math

import pytest
import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common import dcn
from ocr_ds.models.common.conv_module import ConvModule, build_conv_layer
from ocr_ds.models.common.dcn import (DeformConv2dPack, ModulatedDeformConv2dPack,
                                      deform_conv2d, deform_conv2d_torch)
from parity import assert_close, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_dcn.py")


def _case(seed, n=2, c=4, o=6, hw=(7, 6), k=(3, 3), stride=1, padding=1, dilation=1,
          groups=1, dg=1, bias=True, modulated=True, offset_scale=2.0, integer=False,
          dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    kh, kw = k
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    ho = (hw[0] + 2 * ph - (dilation * (kh - 1) + 1)) // sh + 1
    wo = (hw[1] + 2 * pw - (dilation * (kw - 1) + 1)) // sw + 1
    offset = torch.randn(n, 2 * dg * kh * kw, ho, wo, generator=g, dtype=dtype) * offset_scale
    if integer:         # exact grid points, the borders (-1, size) included: zero-init layers
        offset = offset.round()
    return dict(
        x=torch.randn(n, c, *hw, generator=g, dtype=dtype),
        offset=offset,
        mask=torch.rand(n, dg * kh * kw, ho, wo, generator=g, dtype=dtype) if modulated
        else None,
        weight=torch.randn(o, c // groups, kh, kw, generator=g, dtype=dtype) * 0.3,
        bias=torch.randn(o, generator=g, dtype=dtype) if bias else None,
        grad_out=torch.randn(n, o, ho, wo, generator=g, dtype=dtype),
        stride=(sh, sw), padding=(ph, pw), dilation=(dilation, dilation), groups=groups,
        deform_groups=dg)


def _ours(case, fn=deform_conv2d):
    leaves = {k: case[k].clone().requires_grad_(True)
              for k in ("x", "offset", "mask", "weight", "bias") if case[k] is not None}
    out = fn(leaves["x"], leaves["offset"], leaves.get("mask"), leaves["weight"],
             leaves.get("bias"), case["stride"], case["padding"], case["dilation"],
             case["groups"], case["deform_groups"])
    (out * case["grad_out"]).sum().backward()
    return dict(out=out.detach(), grads={k: v.grad for k, v in leaves.items()})


CASES = {
    "3x3 pad 1": dict(),
    "integer offsets (borders)": dict(integer=True, offset_scale=1.5),
    "zero offsets": dict(offset_scale=0.0),
    "stride 2, dilation 2, no bias": dict(stride=2, dilation=2, padding=2, bias=False),
    "groups 2, deform groups 2": dict(groups=2, dg=2, c=4, o=4),
    "far outside": dict(offset_scale=8.0),
    "1x3 kernel, rect stride": dict(k=(1, 3), padding=(0, 1), stride=(1, 2)),
    "v1 (no mask)": dict(modulated=False, bias=False),
}


def test_op_forward_backward_equal_mmcv(mmocr_ref, monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    cases = [_case(i, **kw) for i, kw in enumerate(CASES.values())]
    theirs = mmocr_ref.call(REF, "run_op", cases=cases)
    for name, case, ref in zip(CASES, cases, theirs):
        ours = _ours(case)
        assert_close(ours["out"], ref["out"], what=f"{name}: output")
        assert_close(ours["grads"], ref["grads"], rtol=1e-5, atol=1e-5, what=f"{name}: grad")


def test_dcnv2_layer_init_and_outputs_equal_mmcv(mmocr_ref, monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    x = torch.randn(2, 4, 6, 5, generator=torch.Generator().manual_seed(3))
    theirs = mmocr_ref.call(REF, "run_pack", seed=5, x=x, init_offset_std=0.3)
    torch.manual_seed(5)
    layer = ModulatedDeformConv2dPack(4, 6, 3, stride=1, padding=1, deform_groups=2)
    init = {k: v.clone() for k, v in layer.state_dict().items()}
    assert_same_keys(init, theirs["init"])
    assert set(init) == {"weight", "bias", "conv_offset.weight", "conv_offset.bias"}
    assert_close(init, theirs["init"], rtol=0, atol=0, what="initial state")
    assert not init["conv_offset.weight"].any() and not init["conv_offset.bias"].any()
    layer.load_state_dict(theirs["state"])
    x = x.clone().requires_grad_(True)
    out = layer(x)
    out.sum().backward()
    assert_close(out, theirs["out"], what="output")
    assert_close(x.grad, theirs["x_grad"], atol=1e-5, what="input grad")
    assert_close({k: p.grad for k, p in layer.named_parameters()}, theirs["grads"],
                 atol=1e-5, what="grad")


def _loop_deform_conv(x, offset, mask, weight, bias, stride, padding, dilation, groups, dg):
    """The textbook definition, one output pixel and one tap at a time (float64, autograd)."""
    n, c, h, w = x.shape
    o, cin_g, kh, kw = weight.shape
    ho, wo = offset.shape[2:]
    cg = c // dg

    def pixel(img, y, xx):
        if not (0 <= y < h and 0 <= xx < w):
            return img.new_zeros(())
        return img[y, xx]

    out = []
    for b in range(n):
        planes = []
        for oc in range(o):
            g = oc // (o // groups)
            rows = []
            for i in range(ho):
                row = []
                for j in range(wo):
                    acc = bias[oc] if bias is not None else x.new_zeros(())
                    for ci in range(cin_g):
                        cin = g * cin_g + ci
                        d = cin // cg
                        for a in range(kh):
                            for bb in range(kw):
                                t = a * kw + bb
                                py = i * stride[0] - padding[0] + a * dilation[0] + \
                                    offset[b, d * 2 * kh * kw + 2 * t, i, j]
                                px = j * stride[1] - padding[1] + bb * dilation[1] + \
                                    offset[b, d * 2 * kh * kw + 2 * t + 1, i, j]
                                if not (-1 < py.item() < h and -1 < px.item() < w):
                                    continue
                                y0, x0 = math.floor(py.item()), math.floor(px.item())
                                ly, lx = py - y0, px - x0
                                img = x[b, cin]
                                val = ((1 - ly) * (1 - lx) * pixel(img, y0, x0)
                                       + (1 - ly) * lx * pixel(img, y0, x0 + 1)
                                       + ly * (1 - lx) * pixel(img, y0 + 1, x0)
                                       + ly * lx * pixel(img, y0 + 1, x0 + 1))
                                if mask is not None:
                                    val = val * mask[b, d * kh * kw + t, i, j]
                                acc = acc + weight[oc, ci, a, bb] * val
                    row.append(acc)
                rows.append(torch.stack(row))
            planes.append(torch.stack(rows))
        out.append(torch.stack(planes))
    return torch.stack(out)


@pytest.mark.parametrize("name", ["3x3 pad 1", "integer offsets (borders)",
                                  "groups 2, deform groups 2", "v1 (no mask)"])
def test_op_equals_per_pixel_loop(name, monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    kw = dict(CASES[name], n=1, hw=(4, 3), dtype=torch.float64)
    kw.setdefault("c", 2)
    kw["o"] = 2
    if name.startswith("groups"):
        kw.update(c=4, o=2)
    case = _case(11, **kw)
    ours = _ours(case, deform_conv2d_torch)
    loop = _ours(case, _loop_deform_conv)
    assert_close(ours["out"], loop["out"], rtol=1e-10, atol=1e-12, what="output")
    assert_close(ours["grads"], loop["grads"], rtol=1e-10, atol=1e-12, what="grad")


def test_layers_build_by_mmcv_names_and_keys():
    layer = build_conv_layer(dict(type="DCNv2", deform_groups=1), 8, 8, kernel_size=3,
                             stride=2, padding=1, bias=False)
    assert isinstance(layer, ModulatedDeformConv2dPack)
    assert set(layer.state_dict()) == {"weight", "conv_offset.weight", "conv_offset.bias"}
    assert layer.conv_offset.out_channels == 27 and layer.conv_offset.stride == (2, 2)
    assert layer(torch.randn(1, 8, 9, 9)).shape == (1, 8, 5, 5)
    v1 = build_conv_layer(dict(type="DCN", deform_groups=2), 8, 4, kernel_size=3, padding=1)
    assert isinstance(v1, DeformConv2dPack) and v1.conv_offset.out_channels == 36
    assert set(v1.state_dict()) == {"weight", "conv_offset.weight", "conv_offset.bias"}
    # a ConvModule with conv_cfg=DCNv2, as mmdet's heads build them: bias only without norm
    cm = ConvModule(8, 4, 3, padding=1, conv_cfg=dict(type="DCNv2"), norm_cfg=dict(type="BN"))
    assert set(cm.state_dict()) >= {"conv.weight", "conv.conv_offset.weight", "bn.weight"}
    assert "conv.bias" not in cm.state_dict()
    with pytest.raises(UserError, match="bias"):
        build_conv_layer(dict(type="DCN"), 8, 4, 3, bias=True)
    with pytest.raises(UserError, match="deform_groups=3"):
        build_conv_layer(dict(type="DCNv2", deform_groups=3), 8, 4, 3)


def test_kernel_choice(monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    assert dcn.kernel_name() == "torch"
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "cuda")
    with pytest.raises(UserError, match="OCR_DS_DCN_KERNEL: expected auto, torch or torchvision"):
        dcn.kernel_name()
    monkeypatch.delenv("OCR_DS_DCN_KERNEL")
    have_tv = dcn._torchvision_op() is not None
    assert dcn.kernel_name() == ("torchvision" if have_tv else "torch")
    if not have_tv:
        monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torchvision")
        with pytest.raises(UserError, match="torchvision's deform_conv2d does not load"):
            dcn.kernel_name()


@pytest.mark.skipif(dcn._torchvision_op() is None,
                    reason="no torchvision whose compiled deform_conv2d loads beside this torch")
def test_torchvision_kernel_equals_torch_kernel(monkeypatch):
    for i, kw in enumerate(CASES.values()):
        case = _case(i, **kw)
        monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torchvision")
        tv = _ours(case)
        monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
        assert_close(tv, _ours(case), atol=1e-5, what=f"case {i}")


def test_autocast_computes_in_fp32_and_returns_the_offsets_dtype(monkeypatch):
    monkeypatch.setenv("OCR_DS_DCN_KERNEL", "torch")
    torch.manual_seed(0)
    layer = ModulatedDeformConv2dPack(4, 4, 3, padding=1)
    torch.nn.init.normal_(layer.conv_offset.weight, 0, 0.2)
    x = torch.randn(1, 4, 8, 8)
    ref = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert out.dtype == torch.bfloat16
    # the offsets came from a bf16 conv, so only bf16-level agreement is expected
    assert torch.allclose(out.float(), ref, rtol=0.05, atol=0.05)
    assert layer.double()(x.double()).dtype == torch.float64

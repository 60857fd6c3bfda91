"""Ref side of test_dcn.py: mmcv 1.7.2's compiled modulated deformable convolution (CPU)."""
import torch
from mmcv.ops import ModulatedDeformConv2dPack, modulated_deform_conv2d

from mmocr_common import seed_all, state_of


def run_op(cases):
    """For each case: mmcv's output and the gradients of ``(out * grad_out).sum()`` with respect
    to input, offset, mask, weight and bias (``mask=None``: all ones, i.e. DCN v1)."""
    results = []
    for case in cases:
        leaves = {k: case[k].clone().requires_grad_(True)
                  for k in ("x", "offset", "weight") if case.get(k) is not None}
        mask = case.get("mask")
        leaves["mask"] = (torch.ones(case["offset"].shape[0], case["offset"].shape[1] // 2,
                                     *case["offset"].shape[2:]) if mask is None
                          else mask.clone()).requires_grad_(True)
        if case.get("bias") is not None:
            leaves["bias"] = case["bias"].clone().requires_grad_(True)
        out = modulated_deform_conv2d(leaves["x"], leaves["offset"], leaves["mask"],
                                      leaves["weight"], leaves.get("bias"), case["stride"],
                                      case["padding"], case["dilation"], case["groups"],
                                      case["deform_groups"])
        (out * case["grad_out"]).sum().backward()
        grads = {k: v.grad.clone() for k, v in leaves.items()
                 if not (k == "mask" and mask is None)}
        results.append(dict(out=out.detach(), grads=grads))
    return results


def run_pack(seed, x, init_offset_std):
    """mmcv's DCNv2 layer from a seed: its initial state, and its output/grads once its
    conv_offset is given non-zero weights from the same seed."""
    seed_all(seed)
    layer = ModulatedDeformConv2dPack(x.shape[1], 6, 3, stride=1, padding=1, deform_groups=2)
    init = state_of(layer)
    torch.manual_seed(seed + 1)
    with torch.no_grad():
        layer.conv_offset.weight.normal_(0, init_offset_std)
        layer.conv_offset.bias.normal_(0, 0.5)
    x = x.clone().requires_grad_(True)
    out = layer(x)
    out.sum().backward()
    return dict(init=init, state=state_of(layer), out=out.detach(), x_grad=x.grad,
                grads={k: p.grad.clone() for k, p in layer.named_parameters()})

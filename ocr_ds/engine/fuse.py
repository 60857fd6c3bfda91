"""``test.py --fuse-conv-bn``: fold each BatchNorm into the convolution before it (mmcv's
``fuse_conv_bn``), for a slightly faster forward at test time.

As in mmcv, "before it" means the previous child of the same module, in registration order:
``conv, bn`` pairs inside one module (ResNet blocks, mmcv's ConvModule, VGG's sequential
stages). The BatchNorm becomes an ``Identity``; its running statistics and affine weights move
into the convolution's weight and bias. Only for evaluation: the folded model no longer
normalises by batch.
"""
from __future__ import annotations

import torch
import torch.nn as nn

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.SyncBatchNorm)


def _folded(conv: nn.Conv2d, bn: nn.modules.batchnorm._BatchNorm) -> nn.Conv2d:
    """``conv`` with ``bn`` (in eval mode) folded in: ``w * g / s``, ``(b - mean) * g / s + beta``."""
    weight = conv.weight
    bias = conv.bias if conv.bias is not None else torch.zeros(weight.shape[0], device=weight.device,
                                                               dtype=weight.dtype)
    std = torch.sqrt(bn.running_var + bn.eps)
    gamma = bn.weight if bn.affine else torch.ones_like(std)
    beta = bn.bias if bn.affine else torch.zeros_like(std)
    factor = gamma / std
    with torch.no_grad():
        conv.weight = nn.Parameter(weight * factor.reshape(-1, *[1] * (weight.dim() - 1)))
        conv.bias = nn.Parameter((bias - bn.running_mean) * factor + beta)
    return conv


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every ``Conv2d`` directly followed by a BatchNorm among one module's children;
    returns ``module`` (changed in place)."""
    last_name: str | None = None
    for name, child in list(module.named_children()):
        if isinstance(child, _NORMS) and last_name is not None \
                and child.track_running_stats and child.running_var is not None:
            module._modules[last_name] = _folded(module._modules[last_name], child)
            module._modules[name] = nn.Identity()
            last_name = None
        elif isinstance(child, nn.Conv2d):
            last_name = name
        else:
            last_name = None
            fuse_conv_bn(child)
    return module

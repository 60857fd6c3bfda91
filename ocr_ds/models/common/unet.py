"""``UNet``: MMOCR 0.6.3's U-Net backbone (Ronneberger et al., 2015), SDMGR's visual encoder.

An encoder of ``num_stages`` conv blocks (each after the first starts with a 2x2 max-pool, or a
stride-2 conv) and a decoder whose ``UpConvBlock``s upsample (``InterpConv``: bilinear 2x then a
1x1 ConvModule; or ``DeconvModule``) and fuse with the encoder map of the same scale. The
forward returns the decoder's maps coarse to fine; the last is at the input's resolution with
``base_channels`` channels. Child names, construction order and ``init_cfg`` are MMOCR's (the
encoder/decoder are plain ``nn.ModuleList``s, so the UNet's own Kaiming init is what stays).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.activation import build_activation_layer
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.norm import build_norm_layer

_BN = dict(type="BN")
_RELU = dict(type="ReLU")


def _run(module: nn.Module, x: torch.Tensor, with_cp: bool) -> torch.Tensor:
    if with_cp and x.requires_grad:
        return cp.checkpoint(module, x, use_reentrant=False)
    return module(x)


class BasicConvBlock(nn.Module):
    """``num_convs`` 3x3 ConvModules; the first may stride 2, the others dilate."""

    def __init__(self, in_channels: int, out_channels: int, num_convs: int = 2, stride: int = 1,
                 dilation: int = 1, with_cp: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping | None = _BN, act_cfg: Mapping | None = _RELU,
                 dcn: Any = None, plugins: Any = None):
        super().__init__()
        if dcn is not None or plugins is not None:
            raise UserError("model.backbone: UNet takes no dcn or plugins (MMOCR: not "
                            "implemented)")
        self.with_cp = with_cp
        self.convs = nn.Sequential(*[
            ConvModule(in_channels if i == 0 else out_channels, out_channels, kernel_size=3,
                       stride=stride if i == 0 else 1, dilation=1 if i == 0 else dilation,
                       padding=1 if i == 0 else dilation, conv_cfg=conv_cfg,
                       norm_cfg=norm_cfg, act_cfg=act_cfg) for i in range(num_convs)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _run(self.convs, x, self.with_cp)


class DeconvModule(nn.Module):
    """2x upsampling by a transposed conv, then norm and activation."""

    def __init__(self, in_channels: int, out_channels: int, with_cp: bool = False,
                 norm_cfg: Mapping = _BN, act_cfg: Mapping = _RELU, *, kernel_size: int = 4,
                 scale_factor: int = 2):
        super().__init__()
        if kernel_size < scale_factor or (kernel_size - scale_factor) % 2:
            raise UserError(f"model.backbone.upsample_cfg: DeconvModule needs kernel_size >= "
                            f"scale_factor with an even difference (got kernel_size="
                            f"{kernel_size}, scale_factor={scale_factor})")
        self.with_cp = with_cp
        deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=kernel_size,
                                    stride=scale_factor,
                                    padding=(kernel_size - scale_factor) // 2)
        _, norm = build_norm_layer(norm_cfg, out_channels)
        self.deconv_upsamping = nn.Sequential(deconv, norm, build_activation_layer(act_cfg))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _run(self.deconv_upsamping, x, self.with_cp)


class InterpConv(nn.Module):
    """Interpolation (bilinear 2x by default) and a ConvModule, in either order."""

    def __init__(self, in_channels: int, out_channels: int, with_cp: bool = False,
                 norm_cfg: Mapping | None = _BN, act_cfg: Mapping | None = _RELU, *,
                 conv_cfg: Mapping | None = None, conv_first: bool = False,
                 kernel_size: int = 1, stride: int = 1, padding: int = 0,
                 upsample_cfg: Mapping = dict(scale_factor=2, mode="bilinear",  # noqa: B006
                                              align_corners=False)):
        super().__init__()
        self.with_cp = with_cp
        conv = ConvModule(in_channels, out_channels, kernel_size=kernel_size, stride=stride,
                          padding=padding, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                          act_cfg=act_cfg)
        upsample = nn.Upsample(**upsample_cfg)
        self.interp_upsample = nn.Sequential(conv, upsample) if conv_first else \
            nn.Sequential(upsample, conv)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _run(self.interp_upsample, x, self.with_cp)


class UpConvBlock(nn.Module):
    """Upsample the coarse map to the skip's width, concatenate, then a BasicConvBlock."""

    def __init__(self, conv_block: type, in_channels: int, skip_channels: int,
                 out_channels: int, num_convs: int = 2, stride: int = 1, dilation: int = 1,
                 with_cp: bool = False, conv_cfg: Mapping | None = None,
                 norm_cfg: Mapping | None = _BN, act_cfg: Mapping | None = _RELU,
                 upsample_cfg: Mapping | None = dict(type="InterpConv"),  # noqa: B006
                 key: str = "model.backbone.upsample_cfg"):
        super().__init__()
        self.conv_block = conv_block(in_channels=2 * skip_channels, out_channels=out_channels,
                                     num_convs=num_convs, stride=stride, dilation=dilation,
                                     with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                     act_cfg=act_cfg)
        if upsample_cfg is not None:
            self.upsample = registry.build(registry.UPSAMPLE_LAYERS, upsample_cfg, key,
                                           in_channels=in_channels, out_channels=skip_channels,
                                           with_cp=with_cp, norm_cfg=norm_cfg, act_cfg=act_cfg)
        else:
            self.upsample = ConvModule(in_channels, skip_channels, kernel_size=1, stride=1,
                                       padding=0, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                       act_cfg=act_cfg)

    def forward(self, skip: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.conv_block(torch.cat([skip, self.upsample(x)], dim=1))


def _check_lengths(key: str, values: Sequence, length: int) -> None:
    if not isinstance(values, (list, tuple)) or len(values) != length:
        raise UserError(f"model.backbone.{key}: expected {length} values (got {values!r})")


class UNet(BaseModule):
    """Args as MMOCR's: ``in_channels`` (3), ``base_channels`` (64), ``num_stages`` (5),
    ``strides``, ``enc_num_convs``, ``dec_num_convs``, ``downsamples``, ``enc_dilations``,
    ``dec_dilations``, ``with_cp``, ``conv_cfg``, ``norm_cfg`` (BN), ``act_cfg`` (ReLU),
    ``upsample_cfg`` (``InterpConv``), ``norm_eval``, ``dcn``/``plugins`` (None only),
    ``init_cfg`` (Kaiming on Conv2d, 1 on norms)."""

    def __init__(self, in_channels: int = 3, base_channels: int = 64, num_stages: int = 5,
                 strides: Sequence[int] = (1, 1, 1, 1, 1),
                 enc_num_convs: Sequence[int] = (2, 2, 2, 2, 2),
                 dec_num_convs: Sequence[int] = (2, 2, 2, 2),
                 downsamples: Sequence[bool] = (True, True, True, True),
                 enc_dilations: Sequence[int] = (1, 1, 1, 1, 1),
                 dec_dilations: Sequence[int] = (1, 1, 1, 1), with_cp: bool = False,
                 conv_cfg: Mapping | None = None, norm_cfg: Mapping | None = _BN,
                 act_cfg: Mapping | None = _RELU,
                 upsample_cfg: Mapping | None = dict(type="InterpConv"),  # noqa: B006
                 norm_eval: bool = False, dcn: Any = None, plugins: Any = None,
                 init_cfg: Any = [dict(type="Kaiming", layer="Conv2d"),  # noqa: B006
                                  dict(type="Constant", layer=["_BatchNorm", "GroupNorm"],
                                       val=1)]):
        super().__init__(init_cfg=init_cfg)
        if dcn is not None or plugins is not None:
            raise UserError("model.backbone: UNet takes no dcn or plugins (MMOCR: not "
                            "implemented)")
        for key, values, length in (("strides", strides, num_stages),
                                    ("enc_num_convs", enc_num_convs, num_stages),
                                    ("dec_num_convs", dec_num_convs, num_stages - 1),
                                    ("downsamples", downsamples, num_stages - 1),
                                    ("enc_dilations", enc_dilations, num_stages),
                                    ("dec_dilations", dec_dilations, num_stages - 1)):
            _check_lengths(key, values, length)
        self.num_stages = num_stages
        self.strides = strides
        self.downsamples = downsamples
        self.norm_eval = norm_eval
        self.base_channels = base_channels
        self.encoder = nn.ModuleList()
        self.decoder = nn.ModuleList()
        for i in range(num_stages):
            enc_conv_block: list[nn.Module] = []
            if i != 0:
                if strides[i] == 1 and downsamples[i - 1]:
                    enc_conv_block.append(nn.MaxPool2d(kernel_size=2))
                upsample = strides[i] != 1 or downsamples[i - 1]
                self.decoder.append(UpConvBlock(
                    conv_block=BasicConvBlock, in_channels=base_channels * 2**i,
                    skip_channels=base_channels * 2**(i - 1),
                    out_channels=base_channels * 2**(i - 1), num_convs=dec_num_convs[i - 1],
                    stride=1, dilation=dec_dilations[i - 1], with_cp=with_cp,
                    conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg,
                    upsample_cfg=upsample_cfg if upsample else None))
            enc_conv_block.append(BasicConvBlock(
                in_channels=in_channels, out_channels=base_channels * 2**i,
                num_convs=enc_num_convs[i], stride=strides[i], dilation=enc_dilations[i],
                with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg))
            self.encoder.append(nn.Sequential(*enc_conv_block))
            in_channels = base_channels * 2**i

    def downsample_rate(self) -> int:
        rate = 1
        for i in range(1, self.num_stages):
            if self.strides[i] == 2 or self.downsamples[i - 1]:
                rate *= 2
        return rate

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        rate = self.downsample_rate()
        h, w = x.shape[-2:]
        if h % rate or w % rate:
            raise UserError(f"model.backbone: UNet's input size {(h, w)} must be divisible by "
                            f"its downsample rate {rate} (pad the images: Pad(size_divisor="
                            f"{rate}))")
        enc_outs = []
        for enc in self.encoder:
            x = enc(x)
            enc_outs.append(x)
        dec_outs = [x]
        for i in reversed(range(len(self.decoder))):
            x = self.decoder[i](enc_outs[i], x)
            dec_outs.append(x)
        return dec_outs

    def train(self, mode: bool = True) -> "UNet":
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, nn.modules.batchnorm._BatchNorm):
                    m.eval()
        return self

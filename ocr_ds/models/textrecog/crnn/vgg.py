"""``VeryDeepVgg``: CRNN's 7-convolution VGG backbone for 32-pixel-high word crops.

Layer layout, names and initialisation are MMOCR 0.6.3's (``cnn.conv{i}``, ``cnn.batchnorm{i}``,
``cnn.pooling{i}`` in our ``Sequential``; ``init_cfg`` Xavier-normal convolutions, Uniform(0, 1)
BN weights, applied by ``init_weights()``), so state dicts keep MMOCR's keys and a seeded build
draws MMOCR's numbers. A ``32 x W`` input becomes a ``C x 1 x (W/4 + 1)`` feature map.
``channels`` narrows the network and ``batchnorm`` adds normalisation (ocr_ds's additions;
MMOCR's shape is the default).
"""
from __future__ import annotations

from typing import Sequence

from typing import Any

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, Sequential

MMOCR_CHANNELS = (64, 128, 256, 256, 512, 512, 512)
MMOCR_BATCHNORM = (2, 4, 6)


class VeryDeepVgg(BaseModule):
    """VGG-VeryDeep backbone of CRNN.

    Args:
        leaky_relu: LeakyReLU(0.2) instead of ReLU. Defaults to True (MMOCR's default; its CRNN
            config sets False).
        input_channels: 1 (grayscale) or 3. Defaults to 3.
        channels: Output channels of the 7 convolutions. Defaults to MMOCR's
            ``(64, 128, 256, 256, 512, 512, 512)``.
        batchnorm: Indices of the convolutions followed by BatchNorm. Defaults to MMOCR's
            ``(2, 4, 6)``; normalising all seven makes a small network leave CTC's
            all-blank plateau much sooner.
        init_cfg: Defaults to MMOCR's ``[Xavier on Conv2d, Uniform on BatchNorm2d]``.
    """

    def __init__(self, leaky_relu: bool = True, input_channels: int = 3,
                 channels: Sequence[int] = MMOCR_CHANNELS,
                 batchnorm: Sequence[int] = MMOCR_BATCHNORM,
                 init_cfg: Any = (dict(type="Xavier", layer="Conv2d"),
                                  dict(type="Uniform", layer="BatchNorm2d"))):
        super().__init__(init_cfg=list(init_cfg) if isinstance(init_cfg, tuple) else init_cfg)
        if len(channels) != 7 or any(int(c) < 1 for c in channels):
            raise UserError(f"model.backbone.channels: expected 7 positive integers "
                            f"(got {list(channels)})")
        if any(not 0 <= int(i) < 7 for i in batchnorm):
            raise UserError(f"model.backbone.batchnorm: expected indices 0..6 "
                            f"(got {list(batchnorm)})")
        with_bn = {int(i) for i in batchnorm}
        ks = [3, 3, 3, 3, 3, 3, 2]
        ps = [1, 1, 1, 1, 1, 1, 0]
        nm = [int(c) for c in channels]
        self.channels = nm
        cnn = Sequential()

        def conv_relu(i: int) -> None:
            n_in = input_channels if i == 0 else nm[i - 1]
            cnn.add_module(f"conv{i}", nn.Conv2d(n_in, nm[i], ks[i], 1, ps[i]))
            if i in with_bn:
                cnn.add_module(f"batchnorm{i}", nn.BatchNorm2d(nm[i]))
            cnn.add_module(f"relu{i}", nn.LeakyReLU(0.2, inplace=True) if leaky_relu
                           else nn.ReLU(True))

        conv_relu(0)
        cnn.add_module("pooling0", nn.MaxPool2d(2, 2))  # 16 x W/2
        conv_relu(1)
        cnn.add_module("pooling1", nn.MaxPool2d(2, 2))  # 8 x W/4
        conv_relu(2)
        conv_relu(3)
        cnn.add_module("pooling2", nn.MaxPool2d((2, 2), (2, 1), (0, 1)))  # 4 x W/4+1
        conv_relu(4)
        conv_relu(5)
        cnn.add_module("pooling3", nn.MaxPool2d((2, 2), (2, 1), (0, 1)))  # 2 x W/4+2
        conv_relu(6)  # 1 x W/4+1
        self.cnn = cnn

    def out_channels(self) -> int:
        return self.channels[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(x)

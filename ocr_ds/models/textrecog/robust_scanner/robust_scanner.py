"""``RobustScanner``, its encoder and decoder (MMOCR 0.6.3's ``recognizer/robust_scanner.py``,
``encoders/channel_reduction_encoder.py``, ``decoders/robust_scanner_decoder.py``,
``layers/robust_scanner_fusion_layer.py``).

The decoder runs both branches (:mod:`.attention`) for their glimpses, fuses each step's pair
with ``RobustScannerFusionLayer`` (concatenate, linear, GLU) and predicts ``num_classes - 1``
classes. In testing the position branch runs once for all steps and the hybrid branch step by
step on the greedy history.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textrecog.base import BaseDecoder, BaseEncoder
from ocr_ds.models.textrecog.recognizer import EncodeDecodeRecognizer
from ocr_ds.registry import COMPONENTS, build


class RobustScanner(EncodeDecodeRecognizer):
    """RobustScanner: an :class:`EncodeDecodeRecognizer` with MMOCR's name."""


class ChannelReductionEncoder(BaseEncoder):
    """A 1x1 conv from ``in_channels`` to ``out_channels`` (Xavier-initialised).

    Args:
        in_channels, out_channels: Channels in and out.
        init_cfg: Defaults to ``dict(type='Xavier', layer='Conv2d')``.
    """

    def __init__(self, in_channels: int, out_channels: int, init_cfg: Any = "default"):
        if init_cfg == "default":
            init_cfg = dict(type="Xavier", layer="Conv2d")
        super().__init__(init_cfg=init_cfg)
        self.layer = nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0)

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None
                ) -> torch.Tensor:
        return self.layer(feat)


class RobustScannerFusionLayer(BaseModule):
    """``GLU(Linear([x0, x1]))``: gates the two branches' glimpses."""

    def __init__(self, dim_model: int, dim: int = -1, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.dim_model = dim_model
        self.dim = dim
        self.linear_layer = nn.Linear(dim_model * 2, dim_model * 2)
        self.glu_layer = nn.GLU(dim=dim)

    def forward(self, x0: torch.Tensor, x1: torch.Tensor) -> torch.Tensor:
        if x0.size() != x1.size():
            raise ValueError(f"fusion inputs differ in shape: {tuple(x0.shape)} vs "
                             f"{tuple(x1.shape)}")
        return self.glu_layer(self.linear_layer(torch.cat([x0, x1], self.dim)))


class RobustScannerDecoder(BaseDecoder):
    """RobustScanner's decoder.

    Args:
        num_classes: Classes :math:`C` (set by the recogniser).
        dim_input: Channels :math:`D_i` of the backbone map. Defaults to 512.
        dim_model: Channels :math:`D_m` of the encoder map. Defaults to 128.
        max_seq_len: Decoding steps (set by the recogniser). Defaults to 40.
        start_idx: Start token (set by the recogniser). Defaults to 0.
        mask: Mask by ``valid_ratio``. Defaults to True.
        padding_idx: Padding token (set by the recogniser). Defaults to None.
        encode_value: Attend over the encoder map instead of the backbone map. Defaults to False.
        hybrid_decoder: The hybrid branch's config (``SequenceAttentionDecoder``).
        position_decoder: The position branch's config (``PositionAttentionDecoder``).
        init_cfg: Defaults to None.
    """

    def __init__(self, num_classes: int | None = None, dim_input: int = 512, dim_model: int = 128,
                 max_seq_len: int = 40, start_idx: int = 0, mask: bool = True,
                 padding_idx: int | None = None, encode_value: bool = False,
                 hybrid_decoder: Mapping[str, Any] | None = None,
                 position_decoder: Mapping[str, Any] | None = None, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("hybrid_decoder", hybrid_decoder),
                            ("position_decoder", position_decoder)):
            if not isinstance(value, Mapping):
                raise UserError(f"model.decoder.{name}: expected a decoder dict (got {value!r})")
        self.num_classes = num_classes
        self.dim_input = dim_input
        self.dim_model = dim_model
        self.max_seq_len = max_seq_len
        self.encode_value = encode_value
        self.start_idx = start_idx
        self.padding_idx = padding_idx
        self.mask = mask
        shared = dict(num_classes=num_classes, dim_input=dim_input, dim_model=dim_model,
                      max_seq_len=max_seq_len, mask=mask, encode_value=encode_value,
                      return_feature=True)
        self.hybrid_decoder = build(COMPONENTS, hybrid_decoder, "model.decoder.hybrid_decoder",
                                    start_idx=start_idx, padding_idx=padding_idx, **shared)
        self.position_decoder = build(COMPONENTS, position_decoder,
                                      "model.decoder.position_decoder", **shared)
        dim = dim_model if encode_value else dim_input
        self.fusion_module = RobustScannerFusionLayer(dim)
        self.prediction = nn.Linear(dim, num_classes - 1)

    def forward_train(self, feat: torch.Tensor, out_enc: torch.Tensor,
                      targets_dict: Mapping[str, Any], img_metas: Sequence[dict] | None
                      ) -> torch.Tensor:
        hybrid_glimpse = self.hybrid_decoder.forward_train(feat, out_enc, targets_dict,
                                                           img_metas)
        position_glimpse = self.position_decoder.forward_train(feat, out_enc, targets_dict,
                                                               img_metas)
        return self.prediction(self.fusion_module(hybrid_glimpse, position_glimpse))

    def forward_test(self, feat: torch.Tensor, out_enc: torch.Tensor,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        seq_len = self.max_seq_len
        position_glimpse = self.position_decoder.forward_test(feat, out_enc, img_metas)
        # eval mode: the hybrid branch steps on its carried LSTM state (see
        # SequenceAttentionDecoder.greedy_steps); training mode: MMOCR's re-runs
        steps = None if self.training else self.hybrid_decoder.greedy_steps(feat, out_enc,
                                                                            img_metas)
        # a long tensor from the start: a half-precision one cannot hold every class index
        decode_sequence = torch.full((feat.size(0), seq_len), self.start_idx, dtype=torch.long,
                                     device=feat.device)
        outputs = []
        for i in range(seq_len):
            if steps is None:
                hybrid_glimpse_step = self.hybrid_decoder.forward_test_step(
                    feat, out_enc, decode_sequence, i, img_metas)
            else:
                hybrid_glimpse_step = steps.send(decode_sequence[:, i])
            fusion_out = self.fusion_module(hybrid_glimpse_step, position_glimpse[:, i, :])
            char_out = F.softmax(self.prediction(fusion_out), -1)
            outputs.append(char_out)
            _, max_idx = torch.max(char_out, dim=1, keepdim=False)
            if i < seq_len - 1:
                decode_sequence[:, i + 1] = max_idx
        return torch.stack(outputs, 1)

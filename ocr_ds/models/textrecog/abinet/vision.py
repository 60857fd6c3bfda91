"""ABINet's vision model (MMOCR 0.6.3's ``encoders/abinet_vision_model.py``,
``encoders/transformer.py``, ``decoders/abinet_vision_decoder.py``).

``ABIVisionModel`` = ``TransformerEncoder`` (sinusoidal positions + mmcv transformer layers
over the ``H*W`` backbone positions) then ``ABIVisionDecoder`` (position attention: a mini
U-Net makes the keys, the queries are the positions ``0..T-1`` projected, the values the
encoded map), giving per character step the ``feature`` ``(N, T, E)``, the ``logits``
``(N, T, C)`` and the ``attn_scores`` ``(N, T, H, W)``.

Initialisation as MMOCR's: the transformer layer is built once and deep-copied ``n_layers``
times (every layer starts equal); the U-Net's ConvModules draw their Kaiming init when built,
then ``ABIVisionModel``'s and ``ABIVisionDecoder``'s ``init_cfg`` (Xavier for ``Conv2d``) each
redraw them -- the ConvModules sit in plain ``nn.Sequential``s, whose children the init walk
does not reach, so their own Kaiming is not run again.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.mmcv_transformer import BaseTransformerLayer
from ocr_ds.models.common.transformer import PositionalEncoding
from ocr_ds.models.textrecog.base import BaseDecoder, BaseEncoder
from ocr_ds.registry import COMPONENTS, build


def abi_transformer_layers(operation_order: tuple, d_model: int, n_head: int, d_inner: int,
                           dropout: float, n_layers: int) -> ModuleList:
    """MMOCR's ABINet layer stack: one sequence-first mmcv layer, deep-copied ``n_layers``
    times."""
    if d_model % n_head:
        raise UserError(f"d_model: expected a multiple of n_head={n_head} (got {d_model})")
    layer = BaseTransformerLayer(
        operation_order=operation_order,
        attn_cfgs=dict(type="MultiheadAttention", embed_dims=d_model, num_heads=n_head,
                       attn_drop=dropout, dropout_layer=dict(type="Dropout", drop_prob=dropout)),
        ffn_cfgs=dict(type="FFN", embed_dims=d_model, feedforward_channels=d_inner,
                      ffn_drop=dropout),
        norm_cfg=dict(type="LN"))
    return ModuleList([copy.deepcopy(layer) for _ in range(n_layers)])


class TransformerEncoder(BaseModule):
    """Positional encoding + ``n_layers`` post-norm transformer layers over the feature map.

    Args:
        n_layers: Layers. Defaults to 2.
        n_head: Attention heads. Defaults to 8.
        d_model: Channels of the map. Defaults to 512.
        d_inner: Feed-forward width. Defaults to 2048.
        dropout: Dropout. Defaults to 0.1.
        max_len: Most positions ``H*W``. Defaults to 256.
    """

    def __init__(self, n_layers: int = 2, n_head: int = 8, d_model: int = 512,
                 d_inner: int = 2048, dropout: float = 0.1, max_len: int = 8 * 32,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.max_len = max_len
        self.pos_encoder = PositionalEncoding(d_model, n_position=max_len)
        self.transformer = abi_transformer_layers(("self_attn", "norm", "ffn", "norm"), d_model,
                                                  n_head, d_inner, dropout, n_layers)

    def forward(self, feature: torch.Tensor) -> torch.Tensor:
        n, c, h, w = feature.shape
        if h * w > self.max_len:
            raise UserError(f"model.encoder.encoder.max_len: expected at least the H*W = {h * w} "
                            f"positions of the backbone map (got {self.max_len})")
        feature = feature.view(n, c, -1).transpose(1, 2)       # (N, H*W, C)
        feature = self.pos_encoder(feature).transpose(0, 1)    # (H*W, N, C)
        for layer in self.transformer:
            feature = layer(feature)
        return feature.permute(1, 2, 0).view(n, c, h, w)


class ABIVisionDecoder(BaseDecoder):
    """Position attention over the encoded map.

    Args:
        in_channels: Channels :math:`E` of the map. Defaults to 512.
        num_channels: Channels inside the mini U-Net. Defaults to 64.
        attn_height, attn_width: Size of the map :math:`H, W`. Default 8 and 32.
        attn_mode: ``nn.Upsample`` mode in the U-Net. Defaults to 'nearest'.
        max_seq_len: Steps :math:`T`. Defaults to 40.
        num_chars: Classes :math:`C`. Defaults to 90.
        init_cfg: Defaults to Xavier for ``Conv2d``.
    """

    def __init__(self, in_channels: int = 512, num_channels: int = 64, attn_height: int = 8,
                 attn_width: int = 32, attn_mode: str = "nearest", max_seq_len: int = 40,
                 num_chars: int = 90,
                 init_cfg: Any = {"type": "Xavier", "layer": "Conv2d"},  # noqa: B006 (MMOCR's)
                 **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        self.max_seq_len = max_seq_len
        self.k_encoder = nn.Sequential(
            self._encoder_layer(in_channels, num_channels, stride=(1, 2)),
            self._encoder_layer(num_channels, num_channels, stride=(2, 2)),
            self._encoder_layer(num_channels, num_channels, stride=(2, 2)),
            self._encoder_layer(num_channels, num_channels, stride=(2, 2)))
        self.k_decoder = nn.Sequential(
            self._decoder_layer(num_channels, num_channels, scale_factor=2, mode=attn_mode),
            self._decoder_layer(num_channels, num_channels, scale_factor=2, mode=attn_mode),
            self._decoder_layer(num_channels, num_channels, scale_factor=2, mode=attn_mode),
            self._decoder_layer(num_channels, in_channels, size=(attn_height, attn_width),
                                mode=attn_mode))
        self.pos_encoder = PositionalEncoding(in_channels, max_seq_len)
        self.project = nn.Linear(in_channels, in_channels)
        self.cls = nn.Linear(in_channels, num_chars)

    @staticmethod
    def _encoder_layer(in_channels: int, out_channels: int, stride: Any) -> ConvModule:
        return ConvModule(in_channels, out_channels, kernel_size=3, stride=stride, padding=1,
                          norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU"))

    @staticmethod
    def _decoder_layer(in_channels: int, out_channels: int, mode: str = "nearest",
                       scale_factor: float | None = None, size: tuple | None = None
                       ) -> nn.Sequential:
        align_corners = None if mode == "nearest" else True
        return nn.Sequential(
            nn.Upsample(size=size, scale_factor=scale_factor, mode=mode,
                        align_corners=align_corners),
            ConvModule(in_channels, out_channels, kernel_size=3, stride=1, padding=1,
                       norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU")))

    def forward_train(self, feat: torch.Tensor, out_enc: Any = None,
                      targets_dict: Mapping | None = None,
                      img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        n, e, h, w = feat.size()
        k, v = feat, feat
        features = []
        for layer in self.k_encoder:
            k = layer(k)
            features.append(k)
        for i in range(len(self.k_decoder) - 1):
            k = self.k_decoder[i](k) + features[len(self.k_decoder) - 2 - i]
        k = self.k_decoder[-1](k)
        if k.shape[-2] * k.shape[-1] != h * w:
            raise UserError(f"model.encoder.decoder.attn_height/attn_width: expected "
                            f"{h * w} positions, the backbone map's {h}x{w} "
                            f"(got {k.shape[-2]}x{k.shape[-1]})")
        q = self.project(self.pos_encoder(feat.new_zeros((n, self.max_seq_len, e))))
        attn_scores = torch.bmm(q, k.flatten(2, 3)) / (e**0.5)      # (N, T, H*W)
        attn_scores = torch.softmax(attn_scores, dim=-1)
        v = v.permute(0, 2, 3, 1).view(n, -1, e)                     # (N, H*W, E)
        attn_vecs = torch.bmm(attn_scores, v)                        # (N, T, E)
        return {"feature": attn_vecs, "logits": self.cls(attn_vecs),
                "attn_scores": attn_scores.view(n, -1, h, w)}

    def forward_test(self, feat: torch.Tensor, out_enc: Any = None,
                     img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        return self.forward_train(feat, out_enc=out_enc, img_metas=img_metas)


class ABIVisionModel(BaseEncoder):
    """``encoder`` (``TransformerEncoder``) then ``decoder`` (``ABIVisionDecoder``).

    Args:
        encoder: The map encoder's config. Defaults to ``dict(type='TransformerEncoder')``.
        decoder: The position-attention decoder's config. Defaults to
            ``dict(type='ABIVisionDecoder')``.
        init_cfg: Defaults to Xavier for ``Conv2d``.
    """

    def __init__(self, encoder: Mapping = {"type": "TransformerEncoder"},  # noqa: B006
                 decoder: Mapping = {"type": "ABIVisionDecoder"},  # noqa: B006
                 init_cfg: Any = {"type": "Xavier", "layer": "Conv2d"},  # noqa: B006
                 **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        self.encoder = build(COMPONENTS, encoder, "model.encoder.encoder")
        self.decoder = build(COMPONENTS, decoder, "model.encoder.decoder")

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None
                ) -> dict[str, torch.Tensor]:
        return self.decoder(feat=self.encoder(feat), out_enc=None)

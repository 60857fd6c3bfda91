"""ABINet's language model and fuser (MMOCR 0.6.3's ``decoders/abinet_language_decoder.py``,
``fusers/abi_fuser.py``).

``ABILanguageDecoder`` reads the character probabilities of the previous guess (``softmax`` of
the vision or fused logits, detached by default), embeds them with a bias-free projection and
sinusoidal positions, and lets position queries attend to them through ``n_layers``
sequence-first mmcv transformer layers (built once, deep-copied) whose attention mask hides
each step from itself (the "bidirectional cloze" mask) and hides everything after the first
``pad_idx`` prediction (the guessed length, at least 2). ``ABIFuser`` gates the language and
vision features per channel and classifies the mix.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.transformer import PositionalEncoding
from ocr_ds.models.textrecog.abinet.vision import abi_transformer_layers
from ocr_ds.models.textrecog.base import BaseDecoder


class ABILanguageDecoder(BaseDecoder):
    """The language model ("spell corrector").

    Args:
        d_model: Features. Defaults to 512.
        n_head: Attention heads. Defaults to 8.
        d_inner: Feed-forward width. Defaults to 2048.
        n_layers: Layers. Defaults to 4.
        max_seq_len: Steps :math:`T`. Defaults to 40.
        dropout: Dropout. Defaults to 0.1.
        detach_tokens: Stop the gradient at the input probabilities. Defaults to True.
        num_chars: Classes :math:`C`. Defaults to 90.
        use_self_attn: Self-attention before the cross-attention in each layer.
            Defaults to False.
        pad_idx: The class whose first prediction ends the text (its position + 1 is the
            length). Defaults to 0.
    """

    def __init__(self, d_model: int = 512, n_head: int = 8, d_inner: int = 2048,
                 n_layers: int = 4, max_seq_len: int = 40, dropout: float = 0.1,
                 detach_tokens: bool = True, num_chars: int = 90, use_self_attn: bool = False,
                 pad_idx: int = 0, init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        self.detach_tokens = detach_tokens
        self.d_model = d_model
        self.max_seq_len = max_seq_len
        self.proj = nn.Linear(num_chars, d_model, False)
        self.token_encoder = PositionalEncoding(d_model, n_position=max_seq_len, dropout=0.1)
        self.pos_encoder = PositionalEncoding(d_model, n_position=max_seq_len)
        self.pad_idx = pad_idx
        order = (("self_attn", "norm", "cross_attn", "norm", "ffn", "norm") if use_self_attn
                 else ("cross_attn", "norm", "ffn", "norm"))
        self.decoder_layers = abi_transformer_layers(order, d_model, n_head, d_inner, dropout,
                                                     n_layers)
        self.cls = nn.Linear(d_model, num_chars)

    def forward_train(self, feat: Any, logits: torch.Tensor, targets_dict: Mapping | None,
                      img_metas: Sequence[dict] | None) -> dict[str, torch.Tensor]:
        lengths = self._get_length(logits).clamp_(2, self.max_seq_len)
        tokens = torch.softmax(logits, dim=-1)
        if self.detach_tokens:
            tokens = tokens.detach()
        embed = self.token_encoder(self.proj(tokens))               # (N, T, E)
        padding_mask = self._get_padding_mask(lengths, self.max_seq_len)
        query = self.pos_encoder(embed.new_zeros(*embed.shape)).permute(1, 0, 2)  # (T, N, E)
        embed = embed.permute(1, 0, 2)
        # MMOCR's mask is float32; in the query's dtype (0 and -inf either way) so that bf16
        # attention takes it
        location_mask = self._get_location_mask(self.max_seq_len, tokens.device).to(query.dtype)
        output = query
        for layer in self.decoder_layers:
            output = layer(query=output, key=embed, value=embed, attn_masks=location_mask,
                           key_padding_mask=padding_mask)
        output = output.permute(1, 0, 2)                            # (N, T, E)
        return {"feature": output, "logits": self.cls(output)}

    def forward_test(self, feat: Any, out_enc: torch.Tensor, img_metas: Sequence[dict] | None
                     ) -> dict[str, torch.Tensor]:
        return self.forward_train(feat, out_enc, None, img_metas)

    def _get_length(self, logit: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """Position + 1 of the first ``pad_idx`` prediction, else the full length."""
        out = logit.argmax(dim=-1) == self.pad_idx
        abn = out.any(dim)
        out = ((out.cumsum(dim) == 1) & out).max(dim)[1] + 1
        return torch.where(abn, out, out.new_tensor(logit.shape[1]))

    @staticmethod
    def _get_location_mask(seq_len: int, device: Any = None) -> torch.Tensor:
        """``(T, T)``: -inf on the diagonal (a step never sees its own token), 0 elsewhere."""
        mask = torch.eye(seq_len, device=device)
        return mask.float().masked_fill(mask == 1, float("-inf"))

    @staticmethod
    def _get_padding_mask(length: torch.Tensor, max_length: int) -> torch.Tensor:
        """``(N, T)``: True at the steps at and after each length."""
        grid = torch.arange(0, max_length, device=length.device).unsqueeze(0)
        return grid >= length.unsqueeze(-1)


class ABIFuser(BaseModule):
    """Gated fusion of language and vision features, then the classifier.

    Args:
        d_model: Features. Defaults to 512.
        max_seq_len: Steps (kept, plus one, as MMOCR does). Defaults to 40.
        num_chars: Classes. Defaults to 90.
    """

    def __init__(self, d_model: int = 512, max_seq_len: int = 40, num_chars: int = 90,
                 init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)
        self.max_seq_len = max_seq_len + 1  # MMOCR's: an extra stop token
        self.w_att = nn.Linear(2 * d_model, d_model)
        self.cls = nn.Linear(d_model, num_chars)

    def forward(self, l_feature: torch.Tensor, v_feature: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        f_att = torch.sigmoid(self.w_att(torch.cat((l_feature, v_feature), dim=2)))
        output = f_att * v_feature + (1 - f_att) * l_feature
        return {"logits": self.cls(output)}

"""The bases of recognition encoders and decoders (MMOCR 0.6.3's ``BaseEncoder`` /
``BaseDecoder``), shared by every encoder-decoder family (SAR, RobustScanner, NRTR, SATRN,
MASTER, ABINet).

A decoder is called as ``decoder(feat, out_enc, targets_dict, img_metas, train_mode)``:
``train_mode=True`` runs ``forward_train`` (teacher forcing on ``targets_dict``), ``False`` runs
``forward_test`` (greedy decoding). ``self.train_mode`` keeps the last mode, because some MMOCR
decoders read it (SAR applies its prediction dropout only then, whatever ``self.training``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule


class BaseEncoder(BaseModule):
    """An encoder that returns the backbone features unchanged."""

    def forward(self, feat: torch.Tensor, img_metas: Sequence[dict] | None = None,
                **kwargs: Any) -> torch.Tensor:
        return feat


class BaseDecoder(BaseModule):
    """Dispatch to ``forward_train`` / ``forward_test`` by ``train_mode``."""

    train_mode = True

    def __init__(self, init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg=init_cfg)

    def forward_train(self, feat: torch.Tensor, out_enc: Any, targets_dict: Mapping[str, Any],
                      img_metas: Sequence[dict] | None) -> torch.Tensor:
        raise NotImplementedError

    def forward_test(self, feat: torch.Tensor, out_enc: Any,
                     img_metas: Sequence[dict] | None) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, feat: torch.Tensor, out_enc: Any,
                targets_dict: Mapping[str, Any] | None = None,
                img_metas: Sequence[dict] | None = None, train_mode: bool = True) -> torch.Tensor:
        self.train_mode = train_mode
        if train_mode:
            return self.forward_train(feat, out_enc, targets_dict, img_metas)
        return self.forward_test(feat, out_enc, img_metas)


def valid_ratios(img_metas: Sequence[Mapping[str, Any]], mask: bool = True) -> list[float] | None:
    """The ``valid_ratio`` of each sample (1.0 where unknown), or None when not masking."""
    if not mask or img_metas is None:
        return None
    return [float(meta.get("valid_ratio", 1.0)) for meta in img_metas]


def valid_widths(ratios: Sequence[float], width: int) -> list[int]:
    """``min(width, ceil(width * ratio))`` per sample: the feature columns holding image."""
    return [min(width, math.ceil(width * r)) for r in ratios]


def check_dropout(value: Any, key: str) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
        raise UserError(f"{key}: expected a probability in [0, 1) (got {value!r})")


def check_bool(value: Any, key: str) -> None:
    if not isinstance(value, bool):
        raise UserError(f"{key}: expected True or False (got {value!r})")

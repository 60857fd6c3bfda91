"""``ABILoss`` and ``ABIConvertor`` (MMOCR 0.6.3's ``losses/mix_loss.py``, ``convertors/abi.py``).

``ABIConvertor`` is MMOCR's ``AttnConvertor`` whose ``targets`` are the text's indices cut to
``max_seq_len - 1`` plus the end token (so the model learns where to stop), and whose
``padded_targets`` are ``[start, targets..., pad...]`` of length ``max_seq_len``.

``ABILoss`` takes the first ``len(target)`` steps of every sample's logits (the end token
included), concatenates them and computes a one-hot cross entropy averaged over those steps:
``loss_visual`` for the vision model, ``loss_lang`` and ``loss_fusion`` for the language
model and the fuser over all their iterations (each iteration's steps counted as more steps of
one mean), each times its weight. Computed in float32 whatever the logits' dtype.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.convertors.attn import AttnConvertor


class ABIConvertor(AttnConvertor):
    """``AttnConvertor`` with ABINet's targets (see the module docstring)."""

    def str2tensor(self, strings: Sequence[str]) -> dict[str, Any]:
        if not isinstance(strings, (list, tuple)) or not all(isinstance(s, str) for s in strings):
            raise UserError(f"{self.key}: expected a list of texts (got {strings!r})")
        tensors, padded = [], []
        for index in self.str2idx(strings):
            tensor = torch.tensor(index[:self.max_seq_len - 1] + [self.end_idx], dtype=torch.long)
            tensors.append(tensor)
            src = torch.cat([torch.tensor([self.start_idx]), tensor])
            target = torch.full((self.max_seq_len,), self.padding_idx, dtype=torch.long)
            n = min(src.size(0), self.max_seq_len)
            target[:n] = src[:n]
            padded.append(target)
        return {"targets": tensors, "padded_targets": torch.stack(padded, 0)}


def _weight(value: Any, key: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise UserError(f"{key}: expected a number (got {value!r})")
    return value


class ABILoss(nn.Module):
    """ABINet's three cross entropies.

    Args:
        enc_weight: Weight of the vision model's loss. Defaults to 1.0.
        dec_weight: Weight of the language model's loss. Defaults to 1.0.
        fusion_weight: Weight of the fuser's loss. Defaults to 1.0.
        num_classes: Classes of the one-hot targets (the logits' last dimension). Defaults
            to 37.
    """

    def __init__(self, enc_weight: float = 1.0, dec_weight: float = 1.0,
                 fusion_weight: float = 1.0, num_classes: int = 37, **kwargs: Any):
        super().__init__()
        self.enc_weight = _weight(enc_weight, "model.loss.enc_weight")
        self.dec_weight = _weight(dec_weight, "model.loss.dec_weight")
        self.fusion_weight = _weight(fusion_weight, "model.loss.fusion_weight")
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise UserError(f"model.loss.num_classes: expected a positive integer "
                            f"(got {num_classes!r})")
        self.num_classes = num_classes

    @staticmethod
    def _flatten(logits: torch.Tensor, target_lens: Sequence[int]) -> torch.Tensor:
        return torch.cat([s[:n] for s, n in zip(logits, target_lens)])

    def _ce_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if logits.size(-1) != self.num_classes:
            raise UserError(f"model.loss.num_classes: expected the model's {logits.size(-1)} "
                            f"classes (got {self.num_classes})")
        one_hot = F.one_hot(targets.to(logits.device), self.num_classes)
        log_prob = F.log_softmax(logits.float(), dim=-1)
        return -(one_hot * log_prob).sum(dim=-1).mean()

    def _loss_over_iters(self, outputs: list[torch.Tensor], targets: torch.Tensor
                         ) -> torch.Tensor:
        return self._ce_loss(torch.cat(outputs, dim=0), targets.repeat(len(outputs)))

    def forward(self, outputs: Mapping[str, Any], targets_dict: Mapping[str, Any],
                img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        target_lens = [len(t) for t in targets_dict["targets"]]
        targets = torch.cat(list(targets_dict["targets"]))
        losses = {}
        if outputs.get("out_enc"):
            logits = self._flatten(outputs["out_enc"]["logits"], target_lens)
            losses["loss_visual"] = self._ce_loss(logits, targets) * self.enc_weight
        if outputs.get("out_decs"):
            logits = [self._flatten(o["logits"], target_lens) for o in outputs["out_decs"]]
            losses["loss_lang"] = self._loss_over_iters(logits, targets) * self.dec_weight
        if outputs.get("out_fusers"):
            logits = [self._flatten(o["logits"], target_lens) for o in outputs["out_fusers"]]
            losses["loss_fusion"] = self._loss_over_iters(logits, targets) * self.fusion_weight
        return losses

"""CTC for recognition: the loss (MMOCR 0.x ``CTCLoss``) and the label convertor (``CTCConvertor``).

The convertor maps text to class indices (blank = 0, then the dictionary, then an optional
``<UKN>``) and decodes network outputs greedily: best class per time step, repeats collapsed,
blanks dropped, decoding stopped at ``ceil(T * valid_ratio)`` steps.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import bad_value
from ocr_ds.models.textrecog.dictionary import load_chars

logger = logging.getLogger("ocr_ds")


class CTCConvertor:
    """Convert between text, indices and CTC targets.

    Args:
        dict_type: ``'DICT36'``, ``'DICT37'``, ``'DICT90'`` or ``'DICT91'``. Defaults to
            ``'DICT90'``.
        dict_file: One character per line; wins over ``dict_list`` and ``dict_type``.
        dict_list: List of characters; wins over ``dict_type``.
        with_unknown: Add an ``<UKN>`` class for characters outside the dictionary. Defaults
            to True (MMOCR's default).
        lower: Lower-case texts before converting. Defaults to False.
    """

    blank_idx = 0

    def __init__(self, dict_type: str = "DICT90", dict_file: str | None = None,
                 dict_list: Sequence[str] | None = None, with_unknown: bool = True,
                 lower: bool = False, **kwargs: Any):
        self.idx2char = ["<BLK>"] + load_chars(dict_type, dict_file, dict_list)
        self.unknown_idx: int | None = None
        if with_unknown:
            self.idx2char.append("<UKN>")
            self.unknown_idx = len(self.idx2char) - 1
        self.with_unknown = with_unknown
        self.lower = lower
        self.char2idx = {c: i for i, c in enumerate(self.idx2char)}
        self._warned_unknown = False

    def num_classes(self) -> int:
        return len(self.idx2char)

    def str2idx(self, strings: Sequence[str]) -> list[list[int]]:
        """Texts -> index lists. A character outside the dictionary (and no ``<UKN>``) is dropped
        with one warning (MMOCR 1.x behaviour; 0.x raised mid-epoch)."""
        indexes = []
        for string in strings:
            if self.lower:
                string = string.lower()
            index = []
            for char in string:
                idx = self.char2idx.get(char, self.unknown_idx)
                if idx is None:
                    if not self._warned_unknown:
                        self._warned_unknown = True
                        logger.warning("CTCConvertor: character %r (in %r) is not in the "
                                       "dictionary and is dropped from the target; use a dict "
                                       "file that has it, with_unknown=True, or the dataset's "
                                       "charset= check", char, string)
                    continue
                index.append(idx)
            indexes.append(index)
        return indexes

    def idx2str(self, indexes: Sequence[Sequence[int]]) -> list[str]:
        return ["".join(self.idx2char[i] for i in index) for index in indexes]

    def str2tensor(self, strings: Sequence[str]) -> dict[str, Any]:
        """``targets`` (list of int tensors), ``flatten_targets``, ``target_lengths``."""
        tensors = [torch.tensor(index, dtype=torch.long) for index in self.str2idx(strings)]
        return {
            "targets": tensors,
            "flatten_targets": torch.cat(tensors) if tensors else torch.zeros(0, dtype=torch.long),
            "target_lengths": torch.tensor([len(t) for t in tensors], dtype=torch.long),
        }

    def tensor2idx(self, output: torch.Tensor, img_metas: Sequence[dict] | None = None
                   ) -> tuple[list[list[int]], list[list[float]]]:
        """Greedy CTC decoding of logits ``(N, T, C)`` -> per-sample indices and char scores."""
        n, seq_len = output.size(0), output.size(1)
        valid_ratios = [m.get("valid_ratio", 1.0) for m in img_metas] if img_metas else [1.0] * n
        probs = torch.softmax(output.detach().float(), dim=2).cpu()
        best_prob, best_idx = probs.max(dim=2)
        indexes, scores = [], []
        for b in range(n):
            decode_len = min(seq_len, math.ceil(seq_len * valid_ratios[b]))
            pred = best_idx[b, :decode_len].tolist()
            prob = best_prob[b, :decode_len].tolist()
            index, score, prev = [], [], self.blank_idx
            for t, cls in enumerate(pred):
                if cls not in (prev, self.blank_idx):
                    index.append(cls)
                    score.append(prob[t])
                prev = cls
            indexes.append(index)
            scores.append(score)
        return indexes, scores


class CTCLoss(nn.Module):
    """CTC loss on decoder logits ``(N, T, C)`` (computed in float32, whatever the input dtype).

    Args:
        flatten: Use concatenated targets (all input lengths = T); otherwise padded targets and
            input lengths ``ceil(valid_ratio * T)``. Defaults to True.
        blank: Blank class. Defaults to 0.
        reduction: ``'none'``, ``'mean'`` or ``'sum'``. Defaults to ``'mean'``.
        zero_infinity: Zero infinite losses (targets longer than the input). Defaults to False.
    """

    def __init__(self, flatten: bool = True, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False, **kwargs: Any):
        super().__init__()
        if reduction not in ("none", "mean", "sum"):
            raise bad_value("model.loss.reduction", reduction, "'none', 'mean' or 'sum'")
        self.flatten = flatten
        self.blank = blank
        self.ctc_loss = nn.CTCLoss(blank=blank, reduction=reduction, zero_infinity=zero_infinity)

    def forward(self, outputs: torch.Tensor, targets_dict: dict[str, Any],
                img_metas: Sequence[dict] | None = None) -> dict[str, torch.Tensor]:
        log_probs = torch.log_softmax(outputs.float(), dim=2)
        bsz, seq_len = log_probs.size(0), log_probs.size(1)
        log_probs = log_probs.permute(1, 0, 2).contiguous()  # T, N, C
        device = log_probs.device
        if self.flatten:
            targets = targets_dict["flatten_targets"].to(device)
        else:
            targets = torch.full((bsz, seq_len), self.blank, dtype=torch.long)
            for idx, tensor in enumerate(targets_dict["targets"]):
                valid_len = min(tensor.size(0), seq_len)
                targets[idx, :valid_len] = tensor[:valid_len]
            targets = targets.to(device)
        target_lengths = targets_dict["target_lengths"]
        if not self.flatten:
            target_lengths = torch.clamp(target_lengths, min=1, max=seq_len)
        input_lengths = torch.full((bsz,), seq_len, dtype=torch.long)
        if not self.flatten and img_metas is not None:
            input_lengths = torch.tensor(
                [math.ceil(m.get("valid_ratio", 1.0) * seq_len) for m in img_metas],
                dtype=torch.long)
        loss = self.ctc_loss(log_probs, targets, input_lengths.to(device),
                             target_lengths.long().to(device))
        return {"loss_ctc": loss}

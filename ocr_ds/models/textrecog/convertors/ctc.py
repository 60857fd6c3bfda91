"""``CTCConvertor``: MMOCR 0.6.3's label convertor of CTC recognisers.

It maps text to class indices (blank = 0, then the dictionary, then an optional ``<UKN>``) and
decodes network outputs greedily as MMOCR does: the top class of each time step (``topk``,
softmax scores), repeats collapsed, blanks dropped, decoding stopped at
``ceil(T * valid_ratio)`` steps. One deliberate difference: a character outside the dictionary
(without ``<UKN>``) is dropped with one warning, where MMOCR 0.x raised mid-epoch.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Sequence

import torch

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
    # what MMOCR's BaseConvertor gives every convertor (an encode-decode recogniser reads them)
    start_idx = end_idx = padding_idx = 0

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

    def tensor2idx(self, output: torch.Tensor, img_metas: Sequence[dict] | None = None,
                   topk: int = 1, return_topk: bool = False) -> tuple[list, list]:
        """Greedy CTC decoding of logits ``(N, T, C)`` -> per-sample indices and char scores
        (with ``return_topk``: the ``topk`` best of each, as lists)."""
        n = output.size(0)
        valid_ratios = [m.get("valid_ratio", 1.0) for m in img_metas] if img_metas else [1.0] * n
        probs = torch.softmax(output.detach().float(), dim=2).cpu()
        top_values, top_idx = probs.topk(topk, dim=2)
        best = top_idx[:, :, 0]
        seq_len = probs.size(1)
        indexes, scores, indexes_topk, scores_topk = [], [], [], []
        for b in range(n):
            decode_len = min(seq_len, math.ceil(seq_len * valid_ratios[b]))
            pred = best[b, :decode_len].tolist()
            keep, prev = [], self.blank_idx
            for t, cls in enumerate(pred):
                if cls not in (prev, self.blank_idx):
                    keep.append(t)
                prev = cls
            idx = top_idx[b, keep].tolist()
            val = top_values[b, keep].tolist()
            indexes_topk.append(idx)
            scores_topk.append(val)
            indexes.append([x[0] for x in idx])
            scores.append([x[0] for x in val])
        if return_topk:
            return indexes_topk, scores_topk
        return indexes, scores

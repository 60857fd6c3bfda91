"""Label convertors of the attention recognisers: text <-> class indices <-> tensors.

``BaseConvertor`` holds the dictionary (MMOCR's ``dict_type`` / ``dict_file`` / ``dict_list``,
read by :func:`ocr_ds.models.textrecog.dictionary.load_chars`) and the index mapping;
``AttnConvertor`` adds MMOCR 0.6.3's special tokens and targets, in MMOCR's order::

    idx2char = [dictionary..., '<UKN>' (with_unknown), '<BOS/EOS>', ('<BOS/EOS>' again when
                start_end_same=False), '<PAD>']

so ``start_idx == end_idx`` by default and ``padding_idx`` is the last class, which the
attention decoders never predict (their outputs have ``num_classes() - 1`` columns).

Targets (``str2tensor``): ``padded_targets`` ``(N, max_seq_len)`` = ``[start, chars..., end,
pad, ...]``, truncated to ``max_seq_len`` (a text of ``max_seq_len - 1`` characters or more then
loses its end token, exactly as in MMOCR). Decoding (``tensor2idx``): per step the best class;
padding is skipped and the first end token stops the text.

One deliberate difference: a character outside the dictionary without ``with_unknown`` is
dropped from the target with one warning (MMOCR raised mid-epoch); the dataset's ``charset=``
check skips such samples before they get here.
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

import torch

from ocr_ds.errors import UserError, bad_value
from ocr_ds.models.textrecog.dictionary import load_chars

logger = logging.getLogger("ocr_ds")


class BaseConvertor:
    """The dictionary and the text <-> index mapping (MMOCR's ``BaseConvertor``).

    Args:
        dict_type: ``'DICT36'``, ``'DICT37'``, ``'DICT90'`` or ``'DICT91'``. Defaults to
            ``'DICT90'``.
        dict_file: One character per line (empty lines skipped); wins over the others.
            Defaults to None.
        dict_list: A list of characters; wins over ``dict_type``. Defaults to None.
    """

    start_idx = end_idx = padding_idx = 0
    unknown_idx: int | None = None
    lower = False

    def __init__(self, dict_type: str = "DICT90", dict_file: str | None = None,
                 dict_list: Sequence[str] | None = None, key: str = "model.label_convertor"):
        if dict_file is not None and not isinstance(dict_file, str):
            raise bad_value(f"{key}.dict_file", dict_file, "a path")
        if dict_list is not None and not isinstance(dict_list, (list, tuple)):
            raise bad_value(f"{key}.dict_list", dict_list, "a list of characters")
        self.key = key
        self.idx2char: list[str] = load_chars(dict_type, dict_file, dict_list, key=key)
        self.char2idx = {char: idx for idx, char in enumerate(self.idx2char)}
        self._warned_unknown = False

    def num_classes(self) -> int:
        """Number of classes (the decoders' embedding size)."""
        return len(self.idx2char)

    def str2idx(self, strings: Sequence[str]) -> list[list[int]]:
        """Texts -> index lists (lower-cased first when ``lower``)."""
        indexes = []
        for string in strings:
            if self.lower:
                string = string.lower()
            index = []
            for char in string:
                idx = self.char2idx.get(char, self.unknown_idx)
                if idx is None:
                    self._warn_unknown(char, string)
                    continue
                index.append(idx)
            indexes.append(index)
        return indexes

    def _warn_unknown(self, char: str, string: str) -> None:
        if not self._warned_unknown:
            self._warned_unknown = True
            logger.warning("%s: character %r (in %r) is not in the dictionary and is dropped "
                           "from the target; use a dict file that has it, with_unknown=True, "
                           "or the dataset's charset= check", type(self).__name__, char, string)

    def idx2str(self, indexes: Sequence[Sequence[int]]) -> list[str]:
        """Index lists -> texts."""
        return ["".join(self.idx2char[i] for i in index) for index in indexes]


class AttnConvertor(BaseConvertor):
    """Text <-> tensors for encoder-decoder recognisers (MMOCR's ``AttnConvertor``).

    Args:
        dict_type, dict_file, dict_list: The dictionary, see :class:`BaseConvertor`.
        with_unknown: Add an ``<UKN>`` class for characters outside the dictionary. Defaults
            to True.
        max_seq_len: Length of ``padded_targets`` (the recogniser sets it from its own
            ``max_seq_len``). Defaults to 40.
        lower: Lower-case texts before converting. Defaults to False.
        start_end_same: One token for start and end. Defaults to True.
    """

    def __init__(self, dict_type: str = "DICT90", dict_file: str | None = None,
                 dict_list: Sequence[str] | None = None, with_unknown: bool = True,
                 max_seq_len: int = 40, lower: bool = False, start_end_same: bool = True,
                 **kwargs: Any):
        key = kwargs.pop("key", "model.label_convertor")
        super().__init__(dict_type, dict_file, dict_list, key=key)
        for name, value in (("with_unknown", with_unknown), ("lower", lower),
                            ("start_end_same", start_end_same)):
            if not isinstance(value, bool):
                raise bad_value(f"{key}.{name}", value, "True or False")
        if not isinstance(max_seq_len, int) or isinstance(max_seq_len, bool) or max_seq_len < 1:
            raise bad_value(f"{key}.max_seq_len", max_seq_len, "a positive integer")
        self.with_unknown = with_unknown
        self.max_seq_len = max_seq_len
        self.lower = lower
        self.start_end_same = start_end_same
        self.update_dict()

    def update_dict(self) -> None:
        """Append the special tokens (MMOCR's order) and rebuild ``char2idx``."""
        self.unknown_idx = None
        if self.with_unknown:
            self.idx2char.append("<UKN>")
            self.unknown_idx = len(self.idx2char) - 1
        self.idx2char.append("<BOS/EOS>")
        self.start_idx = len(self.idx2char) - 1
        if not self.start_end_same:
            self.idx2char.append("<BOS/EOS>")
        self.end_idx = len(self.idx2char) - 1
        self.idx2char.append("<PAD>")
        self.padding_idx = len(self.idx2char) - 1
        # a later duplicate wins, as in MMOCR (the second '<BOS/EOS>' maps to end_idx)
        self.char2idx = {char: idx for idx, char in enumerate(self.idx2char)}

    def str2tensor(self, strings: Sequence[str]) -> dict[str, Any]:
        """``targets`` (one index tensor per text) and ``padded_targets`` ``(N, max_seq_len)``."""
        if not isinstance(strings, (list, tuple)) or not all(isinstance(s, str) for s in strings):
            raise UserError(f"{self.key}: expected a list of texts (got {strings!r})")
        tensors, padded = [], []
        for index in self.str2idx(strings):
            tensor = torch.tensor(index, dtype=torch.long)
            tensors.append(tensor)
            src = torch.cat([torch.tensor([self.start_idx]), tensor,
                             torch.tensor([self.end_idx])])
            target = torch.full((self.max_seq_len,), self.padding_idx, dtype=torch.long)
            n = min(src.size(0), self.max_seq_len)
            target[:n] = src[:n]
            padded.append(target)
        return {"targets": tensors, "padded_targets": torch.stack(padded, 0)}

    def tensor2idx(self, outputs: torch.Tensor, img_metas: Sequence[dict] | None = None
                   ) -> tuple[list[list[int]], list[list[float]]]:
        """Greedy decoding of ``(N, T, C)`` outputs -> index lists and per-character scores.

        The scores are the maxima of ``outputs`` as given (probabilities in test mode, where
        the decoders end with a softmax).
        """
        max_value, max_idx = torch.max(outputs.detach(), -1)
        indexes, scores = [], []
        for idx_row, value_row in zip(max_idx.cpu().tolist(), max_value.float().cpu().tolist()):
            str_index, str_score = [], []
            for char_index, char_score in zip(idx_row, value_row):
                if char_index == self.padding_idx:
                    continue
                if char_index == self.end_idx:
                    break
                str_index.append(char_index)
                str_score.append(char_score)
            indexes.append(str_index)
            scores.append(str_score)
        return indexes, scores

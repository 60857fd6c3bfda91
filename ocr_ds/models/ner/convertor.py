"""``NerConvertor``: MMOCR 0.6.3's text <-> ids and entities <-> BIO labels for BERT NER.

Its tokenizer is MMOCR's: one token per character of ``text.lower()``, looked up in the
``vocab_file`` (one token a line; the line number is the id), an unknown one ``unknown_id``
(100, BERT's ``[UNK]``); ``[CLS]`` (``start_id`` 101) first, ``[SEP]`` (``end_id`` 102) after
the text, then 0 to ``max_len``.

Labels (``annotation_type='bio'``), for ``n`` categories: 0 ``'X'`` (padding, the loss's
``ignore_index``), ``1..n`` ``B-<category>``, ``n+1..2n`` ``I-<category>``, ``2n+1`` ``'O'``,
``2n+2`` ``[START]``, ``2n+3`` ``[END]``. An annotation is MMOCR's (CLUENER's)
``{category: {entity text: [[start, end], ...]}}``, character positions, ``end`` inclusive.

Where MMOCR raises (see the README's Differs): a text longer than ``max_len - 2`` characters is
cut to that length (MMOCR's ``IndexError`` skips the sample in training and stops a test), with
one warning; an empty text is ``[CLS] [SEP]`` (MMOCR: ``UnboundLocalError``). Everything MMOCR
accepts gives its ids and labels.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.errors import UserError, bad_value
from ocr_ds.fileio import read_text

logger = logging.getLogger("ocr_ds")


def list_from_file(path: str, key: str) -> list[str]:
    """MMOCR's ``list_from_file``: the file's lines without their line ends (empty ones kept;
    a UTF-8 byte-order mark dropped)."""
    try:
        text = read_text(path, "vocabulary file")
    except FileNotFoundError:
        raise UserError(f"{key}: file not found (got {path!r})") from None
    # lines end at \n, \r\n or \r only, as when Python iterates a text file (not at the other
    # characters str.splitlines takes, which a vocabulary may hold)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


class NerConvertor:
    """Convert between text, ids and BIO labels for the NER pipeline and model.

    Args:
        annotation_type: ``'bio'`` (MMOCR's ``'bioes'`` is not implemented there either).
        vocab_file: One token a line; the line index is its id.
        categories: The entity categories, in label order.
        max_len: Length of every id/label/mask list, ``[CLS]`` and ``[SEP]`` included (> 2).
        unknown_id, start_id, end_id: Defaults to 100, 101, 102 (BERT's Chinese vocabulary).
    """

    _warned_long = False

    def __init__(self, annotation_type: str = "bio", vocab_file: str | None = None,
                 categories: Sequence[str] | None = None, max_len: int | None = None,
                 unknown_id: int = 100, start_id: int = 101, end_id: int = 102):
        if annotation_type == "bioes":
            raise UserError("label_convertor.annotation_type: 'bioes' is not supported (not "
                            "by MMOCR 0.6.3 either); expected 'bio'")
        if annotation_type != "bio":
            raise bad_value("label_convertor.annotation_type", annotation_type, "'bio'")
        if not isinstance(max_len, int) or isinstance(max_len, bool) or max_len <= 2:
            raise bad_value("label_convertor.max_len", max_len, "an integer > 2")
        if not isinstance(categories, (list, tuple)) or not categories or \
                not all(isinstance(c, str) for c in categories):
            raise bad_value("label_convertor.categories", categories,
                            "a non-empty list of category names")
        if not isinstance(vocab_file, str):
            raise bad_value("label_convertor.vocab_file", vocab_file, "a path")
        self.annotation_type = annotation_type
        self.categories = list(categories)
        self.max_len = max_len
        self.unknown_id, self.start_id, self.end_id = unknown_id, start_id, end_id
        vocabs = list_from_file(vocab_file, "label_convertor.vocab_file")
        self.vocab_size = len(vocabs)
        self.word2ids = {}
        for idx, vocab in enumerate(vocabs):   # a repeated token keeps its last line, as MMOCR
            self.word2ids[vocab] = idx
        self.label2id_dict, self.id2label, self.ignore_id = self._generate_labelid_dict()
        self.num_labels = len(self.id2label)

    def _generate_labelid_dict(self) -> tuple[dict, dict, int]:
        n = len(self.categories)
        ignore_id = 2 * n + 1
        label2id: dict[str, list[int]] = {}
        id2label = {0: "X", ignore_id: "O", 2 * n + 2: "[START]", 2 * n + 3: "[END]"}
        for index, category in enumerate(self.categories):
            label2id[category] = [index + 1, index + 1 + n]
            id2label[index + 1] = "B-" + category
            id2label[index + 1 + n] = "I-" + category
        return label2id, id2label, ignore_id

    def _warn_long(self, length: int) -> None:
        if not NerConvertor._warned_long:
            NerConvertor._warned_long = True
            logger.warning("NerConvertor: a text of %d characters is cut to max_len - 2 = %d "
                           "(MMOCR 0.6.3 fails on it); further ones are cut silently", length,
                           self.max_len - 2)

    def convert_text2id(self, text: str) -> list[int]:
        """``[start_id, ids of the (lower-cased) characters..., end_id, 0, ...]``, ``max_len``
        long."""
        ids = [self.word2ids.get(word, self.unknown_id) for word in text.lower()]
        valid_len = min(len(text), self.max_len - 2)
        if len(text) > valid_len:
            self._warn_long(len(text))
        input_ids = [0] * self.max_len
        input_ids[0] = self.start_id
        input_ids[1:valid_len + 1] = ids[:valid_len]
        input_ids[valid_len + 1] = self.end_id
        return input_ids

    def convert_entity2label(self, label: Mapping[str, Any], text_len: int) -> list[int]:
        """Label ids of every position: ``'O'`` over ``[CLS]``, the text and ``[SEP]``, the
        entities' B-/I- labels, ``'X'`` (0) after."""
        labels = [0] * self.max_len
        for j in range(min(text_len + 2, self.max_len)):
            labels[j] = self.ignore_id
        # MMOCR writes entity labels up to the end of the list; a cut text ends with [SEP] there
        limit = self.max_len - 1 if text_len > self.max_len - 2 else self.max_len
        for key in label:
            if key not in self.label2id_dict:
                raise ValueError(f"entity category {key!r} is not one of the convertor's "
                                 f"categories {self.categories}")
            begin_id, inside_id = self.label2id_dict[key]
            for text in label[key]:
                for place in label[key][text]:
                    if place[0] + 1 < limit:
                        labels[place[0] + 1] = begin_id
                        for i in range(place[0] + 1, place[1] + 1):
                            if i + 1 < limit:
                                labels[i + 1] = inside_id
        return labels

    def convert_pred2entities(self, preds: list[list[int]], masks: torch.Tensor
                              ) -> list[list[list]]:
        """``[[[category, start, end], ...] per text]`` from the predicted label ids
        (positions of the text, ``end`` inclusive). As MMOCR: an entity needs a ``B-`` and
        at least one ``I-`` of its category (a one-character entity is never reported)."""
        masks = masks.detach().cpu().numpy()
        pred_entities = []
        if not isinstance(preds, list):
            raise TypeError(f"preds: expected a list (got {type(preds).__name__})")
        for index, pred in enumerate(preds):
            entities: list[list] = []
            entity: list = [-1, -1, -1]
            results = (masks[index][1:] * np.array(pred[1:])).tolist()
            for index, tag in enumerate(results):  # noqa: B020 (MMOCR's names)
                if not isinstance(tag, str):
                    tag = self.id2label[tag]
                if tag.startswith("B-"):
                    if entity[2] != -1 and entity[1] < entity[2]:
                        entities.append(entity)
                    entity = [tag.split("-")[1], index, index]
                    if index == len(results) - 1 and entity[1] < entity[2]:
                        entities.append(entity)
                elif tag.startswith("I-") and entity[1] != -1:
                    if tag.split("-")[1] == entity[0]:
                        entity[2] = index
                    if index == len(results) - 1 and entity[1] < entity[2]:
                        entities.append(entity)
                else:
                    if entity[2] != -1 and entity[1] < entity[2]:
                        entities.append(entity)
                    entity = [-1, -1, -1]
            pred_entities.append(entities)
        return pred_entities

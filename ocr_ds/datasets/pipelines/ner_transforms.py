"""NER pipeline steps of MMOCR 0.6.3: ``NerTransform`` (text -> ids, entities -> labels, masks)
and ``ToTensorNER`` (lists -> tensors, in ``img_metas`` with an empty ``img``, as MMOCR)."""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.errors import bad_value
from ocr_ds.registry import COMPONENTS, build


class NerTransform:
    """``{'text', 'label'}`` -> ``labels``, ``texts``, ``input_ids``, ``attention_mask``,
    ``token_type_ids`` (lists of ``max_len``), through ``label_convertor`` (a ``NerConvertor``
    config).

    ``attention_mask`` is 1 over ``[CLS]``, the text and ``[SEP]`` (a text cut to ``max_len - 2``
    by the convertor: every position), 0 after; ``token_type_ids`` all 0.
    """

    def __init__(self, label_convertor: Mapping[str, Any], max_len: int):
        self.label_convertor = build(COMPONENTS, label_convertor, "label_convertor")
        if max_len != self.label_convertor.max_len:
            raise bad_value("max_len", max_len,
                            f"the label_convertor's max_len, {self.label_convertor.max_len}")
        self.max_len = max_len

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        texts = results["text"]
        input_ids = self.label_convertor.convert_text2id(texts)
        labels = self.label_convertor.convert_entity2label(results["label"], len(texts))
        attention_mask = [0] * self.max_len
        token_type_ids = [0] * self.max_len
        # [CLS] and [SEP] are attended too
        for i in range(min(len(texts) + 2, self.max_len)):
            attention_mask[i] = 1
        return dict(labels=labels, texts=texts, input_ids=input_ids,
                    attention_mask=attention_mask, token_type_ids=token_type_ids)


class ToTensorNER:
    """``{'img': [], 'img_metas': {input_ids, attention_masks, labels, token_type_ids}}`` as
    tensors (MMOCR's layout; the collate stacks them per key in the model)."""

    def __call__(self, results: dict[str, Any]) -> dict[str, Any]:
        return dict(img=[], img_metas=dict(
            input_ids=torch.tensor(results["input_ids"]),
            attention_masks=torch.tensor(results["attention_mask"]),
            labels=torch.tensor(results["labels"]),
            token_type_ids=torch.tensor(results["token_type_ids"])))

"""``NerClassifier``: MMOCR 0.6.3's BERT named-entity recogniser (``configs/ner/bert_softmax``).

::

    model = dict(type='NerClassifier',
                 encoder=dict(type='BertEncoder', max_position_embeddings=512,
                              init_cfg=dict(type='Pretrained', checkpoint=...)),
                 decoder=dict(type='FCDecoder'),
                 loss=dict(type='MaskedCrossEntropyLoss'),
                 label_convertor=dict(type='NerConvertor', annotation_type='bio',
                                      vocab_file=..., categories=[...], max_len=128))

Built in MMOCR's order (convertor, encoder, decoder, loss), with MMOCR's module names. A batch
has no image: its ``img_metas`` carry ``input_ids``, ``attention_masks``, ``token_type_ids``
and ``labels`` (``ToTensorNER``), per sample as the collate leaves them or already stacked as
MMOCR's collate makes them. Training returns ``{'loss_cls': tensor}``; testing returns one list
of ``[category, start, end]`` entities per text (MMOCR's result, JSON as it is).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.registry import COMPONENTS, build

NER_KEYS = ("input_ids", "attention_masks", "token_type_ids", "labels")


def stack_metas(img_metas: Any) -> dict[str, torch.Tensor]:
    """``{key: (N, max_len) tensor}`` from per-sample meta dicts (or an already stacked dict)."""
    if isinstance(img_metas, Mapping):
        return dict(img_metas)
    if not isinstance(img_metas, Sequence) or not img_metas:
        raise UserError("NerClassifier: expected img_metas of ToTensorNER (a list of dicts with "
                        f"{', '.join(NER_KEYS)}); end the pipeline with ToTensorNER")
    missing = [k for k in NER_KEYS[:3] if k not in img_metas[0]]
    if missing:
        raise UserError(f"NerClassifier: img_metas lack {missing}; end the pipeline with "
                        "NerTransform and ToTensorNER")
    return {k: torch.stack([torch.as_tensor(m[k]) for m in img_metas])
            for k in img_metas[0] if isinstance(img_metas[0][k], torch.Tensor)}


class NerClassifier(BaseModule):
    """BERT encoder -> per-token classifier -> BIO entities.

    Args:
        encoder: ``BertEncoder`` config.
        decoder: ``FCDecoder`` config (``num_labels`` filled in from the convertor).
        loss: ``MaskedCrossEntropyLoss`` / ``MaskedFocalLoss`` config (``num_labels`` too).
        label_convertor: ``NerConvertor`` config.
        train_cfg, test_cfg: Accepted for MMOCR configs; unused.
        init_cfg: As any ``BaseModule``'s. Defaults to None.
    """

    def __init__(self, encoder: Mapping[str, Any], decoder: Mapping[str, Any],
                 loss: Mapping[str, Any], label_convertor: Mapping[str, Any],
                 train_cfg: Any = None, test_cfg: Any = None, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor")
        self.encoder = build(COMPONENTS, encoder, "model.encoder")
        conv, rows = self.label_convertor, self.encoder.bert.embeddings.word_embeddings
        needed = max(conv.vocab_size, conv.unknown_id + 1, conv.start_id + 1, conv.end_id + 1)
        if rows.num_embeddings < needed:   # else an IndexError in the first forward
            raise UserError(f"model.encoder.vocab_size: expected at least {needed}, the ids "
                            f"of label_convertor.vocab_file ({conv.vocab_size} tokens) and "
                            f"its special ids (got {rows.num_embeddings})")
        num_labels = self.label_convertor.num_labels
        self.decoder = build(COMPONENTS, dict(decoder, num_labels=num_labels), "model.decoder")
        self.loss = build(COMPONENTS, dict(loss, num_labels=num_labels), "model.loss")
        self.train_cfg, self.test_cfg = train_cfg, test_cfg

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True):
        metas = stack_metas(batch["img_metas"])
        if return_loss:
            return self.forward_train(metas)
        return self.forward_test(metas)

    def forward_train(self, img_metas: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if "labels" not in img_metas:
            raise UserError("NerClassifier: training samples need 'labels' (NerTransform)")
        logits, _ = self.decoder(self.encoder(img_metas))
        return self.loss(logits, img_metas)

    @torch.no_grad()
    def forward_test(self, img_metas: Mapping[str, torch.Tensor]) -> list[list[list]]:
        _, preds = self.decoder(self.encoder(img_metas))
        return self.label_convertor.convert_pred2entities(preds, img_metas["attention_masks"])

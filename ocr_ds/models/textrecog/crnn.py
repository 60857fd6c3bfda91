"""``CRNNNet``: CTC-based text recogniser (backbone -> decoder -> CTC), MMOCR 0.x's CRNN.

Built from the same config as MMOCR's::

    model = dict(type='CRNNNet', preprocessor=None,
                 backbone=dict(type='VeryDeepVgg', leaky_relu=False, input_channels=1),
                 encoder=None,
                 decoder=dict(type='CRNNDecoder', in_channels=512, rnn_flag=True),
                 loss=dict(type='CTCLoss'),
                 label_convertor=dict(type='CTCConvertor', dict_type='DICT36',
                                      with_unknown=False, lower=True))

Forward keeps the engine's contract (:mod:`ocr_ds.models`): training returns
``{'loss_ctc': tensor}``; testing returns ``[{'text', 'score', 'char_scores'}, ...]`` where
``score`` is the mean of the per-character scores (0.0 for an empty prediction).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.registry import COMPONENTS, build


def valid_ratios(img_metas: Sequence[Mapping[str, Any]], batch_width: int) -> list[float]:
    """MMOCR's ``resize_shape[1] / batch width`` (1.0 when the crop's width is unknown)."""
    ratios = []
    for meta in img_metas:
        shape = meta.get("resize_shape")
        ratios.append(1.0 * shape[1] / batch_width if shape is not None else
                      float(meta.get("valid_ratio", 1.0)))
    return ratios


class CRNNNet(nn.Module):
    """CRNN recogniser.

    Args:
        backbone: Backbone config (``VeryDeepVgg``).
        decoder: Decoder config (``CRNNDecoder``); ``num_classes`` is filled in from the
            label convertor.
        loss: Loss config (``CTCLoss``).
        label_convertor: Convertor config (``CTCConvertor``).
        preprocessor, encoder: Must be None (CRNN has neither).
        train_cfg, test_cfg, max_seq_len, pretrained, init_cfg: Accepted for MMOCR configs;
            unused.
    """

    def __init__(self, backbone: Mapping[str, Any], decoder: Mapping[str, Any],
                 loss: Mapping[str, Any], label_convertor: Mapping[str, Any],
                 preprocessor: Mapping[str, Any] | None = None,
                 encoder: Mapping[str, Any] | None = None, train_cfg: Any = None,
                 test_cfg: Any = None, max_seq_len: int = 40, pretrained: Any = None,
                 init_cfg: Any = None):
        super().__init__()
        if preprocessor is not None:
            raise UserError(f"model.preprocessor: CRNNNet supports none (got {preprocessor!r})")
        if encoder is not None:
            raise UserError(f"model.encoder: CRNNNet has no encoder (got {encoder!r})")
        if pretrained is not None:
            raise UserError("model.pretrained: not supported; use --load-from or load_from")
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor")
        self.backbone = build(COMPONENTS, backbone, "model.backbone")
        self.decoder = build(COMPONENTS, decoder, "model.decoder",
                             num_classes=self.label_convertor.num_classes())
        self.loss = build(COMPONENTS, loss, "model.loss")

    def extract_feat(self, img: torch.Tensor) -> torch.Tensor:
        return self.backbone(img)

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True):
        img = batch["img"]
        img_metas = [dict(m) for m in batch["img_metas"]]
        for meta, ratio in zip(img_metas, valid_ratios(img_metas, img.size(-1))):
            meta["valid_ratio"] = ratio
        logits = self.decoder(self.extract_feat(img))  # N, T, C
        if return_loss:
            return self.forward_train(logits, img_metas)
        return self.simple_test(logits, img_metas)

    def forward_train(self, logits: torch.Tensor, img_metas: list[dict]) -> dict[str, torch.Tensor]:
        try:
            texts = [meta["text"] for meta in img_metas]
        except KeyError:
            raise UserError("CRNNNet: training samples need 'text' in img_metas; add 'text' "
                            "to Collect.meta_keys of the train pipeline") from None
        targets = self.label_convertor.str2tensor(texts)
        return self.loss(logits, targets, img_metas)

    @torch.no_grad()
    def simple_test(self, logits: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        indexes, scores = self.label_convertor.tensor2idx(logits, img_metas)
        texts = self.label_convertor.idx2str(indexes)
        return [{"text": text, "score": float(sum(s) / len(s)) if s else 0.0, "char_scores": s}
                for text, s in zip(texts, scores)]

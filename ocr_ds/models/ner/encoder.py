"""``BertEncoder``: MMOCR 0.6.3's BERT wrapper (``model.encoder`` of ``NerClassifier``).

Its default ``init_cfg`` (Xavier for ``Conv2d``, Uniform for ``BatchNorm2d``) matches no layer
of BERT, so it does nothing, and the ``init_weights()`` walk then re-runs
:meth:`~ocr_ds.models.ner.bert.BertModel.init_weights`, as in MMOCR. The CLUENER config's
``init_cfg=dict(type='Pretrained', checkpoint='https://download.openmmlab.com/...')`` loads
MMOCR's ``bert_pretrain.pth`` instead (torch hub's cache; downloaded there when missing, as
mmcv does: :func:`ocr_ds.models.common.init.resolve_checkpoint`).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.ner.bert import BertModel

_NO_MATCH_INIT = [dict(type="Xavier", layer="Conv2d"), dict(type="Uniform", layer="BatchNorm2d")]


class BertEncoder(BaseModule):
    """BERT over ``input_ids`` / ``attention_masks`` / ``token_type_ids``.

    Args: as :class:`~ocr_ds.models.ner.bert.BertModel` (MMOCR's names and defaults: 12 layers,
    hidden 768, 12 heads, intermediate 3072, vocabulary 21128, ``max_position_embeddings`` 128,
    ``hidden_act_cfg=dict(type='GeluNew')``); ``init_cfg`` as any ``BaseModule``'s.
    """

    def __init__(self, num_hidden_layers: int = 12, initializer_range: float = 0.02,
                 vocab_size: int = 21128, hidden_size: int = 768,
                 max_position_embeddings: int = 128, type_vocab_size: int = 2,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1,
                 output_attentions: bool = False, output_hidden_states: bool = False,
                 num_attention_heads: int = 12, attention_probs_dropout_prob: float = 0.1,
                 intermediate_size: int = 3072,
                 hidden_act_cfg: Mapping[str, Any] = dict(type="GeluNew"),
                 init_cfg: Any = _NO_MATCH_INIT):
        super().__init__(init_cfg=init_cfg)
        self.bert = BertModel(
            num_hidden_layers=num_hidden_layers, initializer_range=initializer_range,
            vocab_size=vocab_size, hidden_size=hidden_size,
            max_position_embeddings=max_position_embeddings, type_vocab_size=type_vocab_size,
            layer_norm_eps=layer_norm_eps, hidden_dropout_prob=hidden_dropout_prob,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
            num_attention_heads=num_attention_heads,
            attention_probs_dropout_prob=attention_probs_dropout_prob,
            intermediate_size=intermediate_size, hidden_act_cfg=hidden_act_cfg)

    def forward(self, results: Mapping[str, torch.Tensor]) -> tuple:
        device = next(self.bert.parameters()).device
        return self.bert(input_ids=results["input_ids"].to(device),
                         attention_masks=results["attention_masks"].to(device),
                         token_type_ids=results["token_type_ids"].to(device))

"""MMOCR 0.6.3's own BERT (``mmocr/models/ner/utils/bert.py``, adapted there from
lonePatient's BERT-NER-Pytorch), module for module, so its checkpoints (``bert_pretrain.pth``,
the CLUENER model) load with nothing missing or unexpected.

Kept as MMOCR has them, because trained weights and seeded runs depend on them: the
``LayerNorm`` attribute names (TensorFlow's), the additive mask ``(1 - mask) * -10000``, the
tanh approximation of GELU (``GeluNew``), and ``BertModel.init_weights`` (N(0, 0.02) for every
linear and embedding weight, the padding row included; zero biases; unit LayerNorms), which
runs once when the model is built and again in the model's ``init_weights()`` walk, as in
MMOCR (so a seeded build draws MMOCR's random numbers).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

import torch
import torch.nn as nn

from ocr_ds.models.common.activation import build_activation_layer


class GeluNew(nn.Module):
    """GELU, Google BERT's tanh approximation (MMOCR's ``GeluNew`` activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


class BertModel(nn.Module):
    """BERT: embeddings, ``num_hidden_layers`` transformer layers, pooler."""

    def __init__(self, num_hidden_layers: int = 12, initializer_range: float = 0.02,
                 vocab_size: int = 21128, hidden_size: int = 768,
                 max_position_embeddings: int = 128, type_vocab_size: int = 2,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1,
                 output_attentions: bool = False, output_hidden_states: bool = False,
                 num_attention_heads: int = 12, attention_probs_dropout_prob: float = 0.1,
                 intermediate_size: int = 3072,
                 hidden_act_cfg: Mapping[str, Any] = dict(type="GeluNew")):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size, hidden_size, max_position_embeddings,
                                         type_vocab_size, layer_norm_eps, hidden_dropout_prob)
        self.encoder = BertEncoder(output_attentions, output_hidden_states, num_hidden_layers,
                                   hidden_size, num_attention_heads,
                                   attention_probs_dropout_prob, layer_norm_eps,
                                   hidden_dropout_prob, intermediate_size, hidden_act_cfg)
        self.pooler = BertPooler(hidden_size)
        self.num_hidden_layers = num_hidden_layers
        self.initializer_range = initializer_range
        self.init_weights()

    def forward(self, input_ids: torch.Tensor, attention_masks: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None,
                head_mask: torch.Tensor | None = None) -> tuple:
        if attention_masks is None:
            attention_masks = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        dtype = next(self.parameters()).dtype
        attention_masks = attention_masks[:, None, None].to(dtype=dtype)
        attention_masks = (1.0 - attention_masks) * -10000.0
        if head_mask is not None:
            if head_mask.dim() == 1:
                head_mask = head_mask[None, None, :, None, None]
            elif head_mask.dim() == 2:
                head_mask = head_mask[None, :, None, None]
            head_mask = head_mask.to(dtype=dtype)
        else:
            head_mask = [None] * self.num_hidden_layers
        embedding_output = self.embeddings(input_ids, position_ids=position_ids,
                                           token_type_ids=token_type_ids)
        sequence_output, *encoder_outputs = self.encoder(embedding_output, attention_masks,
                                                         head_mask=head_mask)
        pooled_output = self.pooler(sequence_output)
        # sequence_output, pooled_output, (hidden_states), (attentions)
        return (sequence_output, pooled_output) + tuple(encoder_outputs)

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.initializer_range)
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)
        if isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.data.zero_()

    def init_weights(self) -> None:
        self.apply(self._init_weights)


class BertEmbeddings(nn.Module):
    """Word + position + token-type embeddings, LayerNorm, dropout."""

    def __init__(self, vocab_size: int = 21128, hidden_size: int = 768,
                 max_position_embeddings: int = 128, type_vocab_size: int = 2,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(max_position_embeddings, hidden_size)
        self.token_type_embeddings = nn.Embedding(type_vocab_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None,
                position_ids: torch.Tensor | None = None) -> torch.Tensor:
        seq_length = input_ids.size(1)
        if position_ids is None:
            position_ids = torch.arange(seq_length, dtype=torch.long, device=input_ids.device)
            position_ids = position_ids.unsqueeze(0).expand_as(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        embeddings = (self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
                      + self.token_type_embeddings(token_type_ids))
        return self.dropout(self.LayerNorm(embeddings))


class BertEncoder(nn.Module):
    """The stack of :class:`BertLayer` (``layer.N``)."""

    def __init__(self, output_attentions: bool = False, output_hidden_states: bool = False,
                 num_hidden_layers: int = 12, hidden_size: int = 768,
                 num_attention_heads: int = 12, attention_probs_dropout_prob: float = 0.1,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1,
                 intermediate_size: int = 3072,
                 hidden_act_cfg: Mapping[str, Any] = dict(type="GeluNew")):
        super().__init__()
        self.output_attentions = output_attentions
        self.output_hidden_states = output_hidden_states
        self.layer = nn.ModuleList([
            BertLayer(hidden_size, num_attention_heads, output_attentions,
                      attention_probs_dropout_prob, layer_norm_eps, hidden_dropout_prob,
                      intermediate_size, hidden_act_cfg)
            for _ in range(num_hidden_layers)])

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                head_mask: Any = None) -> tuple:
        all_hidden_states: tuple = ()
        all_attentions: tuple = ()
        for i, layer_module in enumerate(self.layer):
            if self.output_hidden_states:
                all_hidden_states = all_hidden_states + (hidden_states,)
            layer_outputs = layer_module(hidden_states, attention_mask, head_mask[i])
            hidden_states = layer_outputs[0]
            if self.output_attentions:
                all_attentions = all_attentions + (layer_outputs[1],)
        if self.output_hidden_states:
            all_hidden_states = all_hidden_states + (hidden_states,)
        outputs: tuple = (hidden_states,)
        if self.output_hidden_states:
            outputs = outputs + (all_hidden_states,)
        if self.output_attentions:
            outputs = outputs + (all_attentions,)
        return outputs


class BertPooler(nn.Module):
    """``tanh(dense(first token))``."""

    def __init__(self, hidden_size: int = 768):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden_states[:, 0]))


class BertLayer(nn.Module):
    """Self-attention block, then the feed-forward block (post-norm)."""

    def __init__(self, hidden_size: int = 768, num_attention_heads: int = 12,
                 output_attentions: bool = False, attention_probs_dropout_prob: float = 0.1,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1,
                 intermediate_size: int = 3072,
                 hidden_act_cfg: Mapping[str, Any] = dict(type="GeluNew")):
        super().__init__()
        self.attention = BertAttention(hidden_size, num_attention_heads, output_attentions,
                                       attention_probs_dropout_prob, layer_norm_eps,
                                       hidden_dropout_prob)
        self.intermediate = BertIntermediate(hidden_size, intermediate_size, hidden_act_cfg)
        self.output = BertOutput(intermediate_size, hidden_size, layer_norm_eps,
                                 hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                head_mask: torch.Tensor | None = None) -> tuple:
        attention_outputs = self.attention(hidden_states, attention_mask, head_mask)
        attention_output = attention_outputs[0]
        layer_output = self.output(self.intermediate(attention_output), attention_output)
        return (layer_output,) + attention_outputs[1:]


class BertSelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention (``query``, ``key``, ``value``)."""

    def __init__(self, hidden_size: int = 768, num_attention_heads: int = 12,
                 output_attentions: bool = False, attention_probs_dropout_prob: float = 0.1):
        super().__init__()
        if hidden_size % num_attention_heads != 0:
            raise ValueError(f"hidden_size ({hidden_size}) is not a multiple of "
                             f"num_attention_heads ({num_attention_heads})")
        self.output_attentions = output_attentions
        self.num_attention_heads = num_attention_heads
        self.att_head_size = int(hidden_size / num_attention_heads)
        self.all_head_size = self.num_attention_heads * self.att_head_size
        self.query = nn.Linear(hidden_size, self.all_head_size)
        self.key = nn.Linear(hidden_size, self.all_head_size)
        self.value = nn.Linear(hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(attention_probs_dropout_prob)

    def transpose_for_scores(self, x: torch.Tensor) -> torch.Tensor:
        x = x.view(*x.size()[:-1], self.num_attention_heads, self.att_head_size)
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None,
                head_mask: torch.Tensor | None = None) -> tuple:
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        attention_scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        attention_scores = attention_scores / math.sqrt(self.att_head_size)
        if attention_mask is not None:
            attention_scores = attention_scores + attention_mask
        attention_probs = self.dropout(nn.Softmax(dim=-1)(attention_scores))
        if head_mask is not None:
            attention_probs = attention_probs * head_mask
        context_layer = torch.matmul(attention_probs, value_layer)
        context_layer = context_layer.permute(0, 2, 1, 3).contiguous()
        context_layer = context_layer.view(*context_layer.size()[:-2], self.all_head_size)
        return (context_layer, attention_probs) if self.output_attentions else (context_layer,)


class BertSelfOutput(nn.Module):
    """``LayerNorm(dropout(dense(x)) + input)``."""

    def __init__(self, hidden_size: int = 768, layer_norm_eps: float = 1e-12,
                 hidden_dropout_prob: float = 0.1):
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    """``self`` (attention) and ``output`` (projection, residual, LayerNorm)."""

    def __init__(self, hidden_size: int = 768, num_attention_heads: int = 12,
                 output_attentions: bool = False, attention_probs_dropout_prob: float = 0.1,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1):
        super().__init__()
        self.self = BertSelfAttention(hidden_size, num_attention_heads, output_attentions,
                                      attention_probs_dropout_prob)
        self.output = BertSelfOutput(hidden_size, layer_norm_eps, hidden_dropout_prob)

    def forward(self, input_tensor: torch.Tensor, attention_mask: torch.Tensor | None = None,
                head_mask: torch.Tensor | None = None) -> tuple:
        self_outputs = self.self(input_tensor, attention_mask, head_mask)
        return (self.output(self_outputs[0], input_tensor),) + self_outputs[1:]


class BertIntermediate(nn.Module):
    """``act(dense(x))``, the feed-forward block's expansion."""

    def __init__(self, hidden_size: int = 768, intermediate_size: int = 3072,
                 hidden_act_cfg: Mapping[str, Any] = dict(type="GeluNew")):
        super().__init__()
        self.dense = nn.Linear(hidden_size, intermediate_size)
        self.intermediate_act_fn = build_activation_layer(hidden_act_cfg,
                                                          "model.encoder.hidden_act_cfg")

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    """``LayerNorm(dropout(dense(x)) + input)``, the feed-forward block's projection."""

    def __init__(self, intermediate_size: int = 3072, hidden_size: int = 768,
                 layer_norm_eps: float = 1e-12, hidden_dropout_prob: float = 0.1):
        super().__init__()
        self.dense = nn.Linear(intermediate_size, hidden_size)
        self.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = nn.Dropout(hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, input_tensor: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)

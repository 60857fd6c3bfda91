"""mmcv 1.7's ``BaseTransformerLayer`` with its ``MultiheadAttention`` and ``FFN`` (MASTER, ABINet).

Built as MMOCR's decoders and encoders build them::

    BaseTransformerLayer(
        operation_order=('self_attn', 'norm', 'cross_attn', 'norm', 'ffn', 'norm'),
        attn_cfgs=dict(type='MultiheadAttention', embed_dims=512, num_heads=8,
                       attn_drop=0.1, dropout_layer=dict(type='Dropout', drop_prob=0.1)),
        ffn_cfgs=dict(type='FFN', embed_dims=512, feedforward_channels=2048, ffn_drop=0.1),
        norm_cfg=dict(type='LN'), batch_first=True)

Module names are mmcv's (``attentions.0.attn.in_proj_weight``: torch's ``nn.MultiheadAttention``
inside; ``ffns.0.layers.0.0.weight``; ``norms.0.weight``), and so is the arithmetic: every
attention and FFN adds its identity (the layer input for pre-norm orders, else its own input),
``batch_first`` transposes around torch's sequence-first attention. The ``type`` names of
``attn_cfgs`` / ``ffn_cfgs`` / ``dropout_layer`` resolve through
:data:`ocr_ds.registry.TRANSFORMER_PARTS`.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import torch
import torch.nn as nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.activation import build_activation_layer
from ocr_ds.models.common.base import BaseModule, ModuleList, Sequential
from ocr_ds.models.common.norm import build_norm_layer


class Dropout(nn.Dropout):
    """mmcv's ``Dropout(drop_prob)`` (``nn.Dropout`` under mmcv's argument name)."""

    def __init__(self, drop_prob: float = 0.5, inplace: bool = False):
        super().__init__(p=drop_prob, inplace=inplace)


class DropPath(nn.Module):
    """Stochastic depth: drops whole samples' residual branches with ``drop_prob`` in training."""

    def __init__(self, drop_prob: float = 0.1):
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.ndim - 1)
        mask = keep + torch.rand(shape, dtype=x.dtype, device=x.device)
        return x.div(keep) * mask.floor()


class Linear(nn.Linear):
    """mmcv's ``Linear`` wrapper class (the class name ``init_cfg`` layers match)."""


def build_part(cfg: Mapping[str, Any], key: str, **defaults: Any) -> nn.Module:
    """An attention / FFN / dropout module from its ``type=`` dict."""
    if not isinstance(cfg, Mapping):
        raise UserError(f"{key}: expected a dict with a 'type' key (got {cfg!r})")
    args = {**defaults, **copy.deepcopy(dict(cfg))}
    return registry.build(registry.TRANSFORMER_PARTS, args, key)


class MultiheadAttention(BaseModule):
    """mmcv's wrapper of ``nn.MultiheadAttention`` (child ``attn``) with an identity connection.

    Args:
        embed_dims, num_heads: as torch's.
        attn_drop: Dropout on the attention weights. Defaults to 0.
        proj_drop: Dropout on the output. Defaults to 0.
        dropout_layer: Dropout on the output before the identity is added. Defaults to
            ``dict(type='Dropout', drop_prob=0.)``.
        batch_first: Inputs are ``(N, L, C)``. Defaults to False (``(L, N, C)``).
        dropout: Deprecated: sets ``attn_drop`` and ``dropout_layer.drop_prob``.
        **kwargs: passed to ``nn.MultiheadAttention``.
    """

    def __init__(self, embed_dims: int, num_heads: int, attn_drop: float = 0.0,
                 proj_drop: float = 0.0,
                 dropout_layer: Mapping | None = {"type": "Dropout", "drop_prob": 0.0},  # noqa: B006
                 init_cfg: Any = None, batch_first: bool = False, **kwargs: Any):
        super().__init__(init_cfg)
        dropout_layer = copy.deepcopy(dict(dropout_layer)) if dropout_layer else None
        if "dropout" in kwargs:
            attn_drop = kwargs["dropout"]
            if dropout_layer is not None:
                dropout_layer["drop_prob"] = kwargs.pop("dropout")
            else:
                kwargs.pop("dropout")
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.batch_first = batch_first
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, attn_drop, **kwargs)
        self.proj_drop = nn.Dropout(proj_drop)
        self.dropout_layer = (build_part(dropout_layer, "dropout_layer") if dropout_layer
                              else nn.Identity())

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, identity: torch.Tensor | None = None,
                query_pos: torch.Tensor | None = None, key_pos: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        key = query if key is None else key
        value = key if value is None else value
        identity = query if identity is None else identity
        if key_pos is None and query_pos is not None and query_pos.shape == key.shape:
            key_pos = query_pos
        if query_pos is not None:
            query = query + query_pos
        if key_pos is not None:
            key = key + key_pos
        if self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        out = self.attn(query=query, key=key, value=value, attn_mask=attn_mask,
                        key_padding_mask=key_padding_mask)[0]
        if self.batch_first:
            out = out.transpose(0, 1)
        return identity + self.dropout_layer(self.proj_drop(out))


class FFN(BaseModule):
    """mmcv's feed-forward network: ``num_fcs`` linears (``layers``), identity added.

    Args:
        embed_dims: Input and output features. Defaults to 256.
        feedforward_channels: Hidden features. Defaults to 1024.
        num_fcs: Linear layers, at least 2. Defaults to 2.
        act_cfg: Activation. Defaults to ``dict(type='ReLU', inplace=True)``.
        ffn_drop: Dropout after each linear. Defaults to 0.
        dropout_layer: Dropout before the identity is added. Defaults to None.
        add_identity: Add the identity. Defaults to True.
    """

    def __init__(self, embed_dims: int = 256, feedforward_channels: int = 1024,
                 num_fcs: int = 2,
                 act_cfg: Mapping = {"type": "ReLU", "inplace": True},  # noqa: B006 (mmcv's)
                 ffn_drop: float = 0.0, dropout_layer: Mapping | None = None,
                 add_identity: bool = True, init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg)
        if "dropout" in kwargs:            # mmcv's deprecated names
            ffn_drop = kwargs.pop("dropout")
        if "add_residual" in kwargs:
            add_identity = kwargs.pop("add_residual")
        if kwargs:
            raise UserError(f"ffn_cfgs: FFN got unexpected arguments {sorted(kwargs)}")
        if not isinstance(num_fcs, int) or num_fcs < 2:
            raise UserError(f"ffn_cfgs.num_fcs: expected an int >= 2 (got {num_fcs!r})")
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.num_fcs = num_fcs
        self.act_cfg = act_cfg
        self.activate = build_activation_layer(act_cfg)
        layers: list[nn.Module] = []
        in_channels = embed_dims
        for _ in range(num_fcs - 1):
            layers.append(Sequential(Linear(in_channels, feedforward_channels), self.activate,
                                     nn.Dropout(ffn_drop)))
            in_channels = feedforward_channels
        layers.append(Linear(feedforward_channels, embed_dims))
        layers.append(nn.Dropout(ffn_drop))
        self.layers = Sequential(*layers)
        self.dropout_layer = (build_part(dropout_layer, "dropout_layer") if dropout_layer
                              else nn.Identity())
        self.add_identity = add_identity

    def forward(self, x: torch.Tensor, identity: torch.Tensor | None = None) -> torch.Tensor:
        out = self.layers(x)
        if not self.add_identity:
            return self.dropout_layer(out)
        return (x if identity is None else identity) + self.dropout_layer(out)


_OPERATIONS = {"self_attn", "norm", "ffn", "cross_attn"}


class BaseTransformerLayer(BaseModule):
    """mmcv's transformer layer: attentions, FFNs and norms run in ``operation_order``.

    Args:
        attn_cfgs: One attention dict for all, or one per attention of ``operation_order``.
        ffn_cfgs: One FFN dict for all, or one per ``'ffn'``. Defaults to mmcv's FFN dict.
        operation_order: A sequence of 'self_attn', 'cross_attn', 'norm', 'ffn'; a leading
            'norm' makes the layer pre-norm.
        norm_cfg: Norm layer. Defaults to ``dict(type='LN')``.
        batch_first: Inputs are ``(N, L, C)``. Defaults to False.
    """

    def __init__(self, attn_cfgs: Mapping | Sequence[Mapping] | None = None,
                 ffn_cfgs: Mapping | Sequence[Mapping] = {  # noqa: B006 (mmcv's default)
                     "type": "FFN", "embed_dims": 256, "feedforward_channels": 1024,
                     "num_fcs": 2, "ffn_drop": 0.0, "act_cfg": {"type": "ReLU", "inplace": True}},
                 operation_order: Sequence[str] | None = None,
                 norm_cfg: Mapping = {"type": "LN"},  # noqa: B006 (mmcv's default)
                 init_cfg: Any = None, batch_first: bool = False, **kwargs: Any):
        ffn_cfgs = copy.deepcopy(ffn_cfgs)
        for old, new in (("feedforward_channels", "feedforward_channels"),
                         ("ffn_dropout", "ffn_drop"), ("ffn_num_fcs", "num_fcs")):
            if old in kwargs:
                ffn_cfgs[new] = kwargs.pop(old)
        super().__init__(init_cfg)
        if operation_order is None or not set(operation_order) <= _OPERATIONS:
            raise UserError(f"operation_order: expected a sequence of {sorted(_OPERATIONS)} "
                            f"(got {operation_order!r})")
        self.batch_first = batch_first
        num_attn = operation_order.count("self_attn") + operation_order.count("cross_attn")
        if isinstance(attn_cfgs, Mapping):
            attn_cfgs = [copy.deepcopy(dict(attn_cfgs)) for _ in range(num_attn)]
        elif attn_cfgs is None or len(attn_cfgs) != num_attn:
            raise UserError(f"attn_cfgs: expected a dict or {num_attn} dicts, one per attention "
                            f"of operation_order (got {attn_cfgs!r})")
        else:
            attn_cfgs = [copy.deepcopy(dict(c)) for c in attn_cfgs]
        self.num_attn = num_attn
        self.operation_order = tuple(operation_order)
        self.norm_cfg = norm_cfg
        self.pre_norm = operation_order[0] == "norm"
        self.attentions = ModuleList()
        index = 0
        for name in operation_order:
            if name in ("self_attn", "cross_attn"):
                cfg = attn_cfgs[index]
                if cfg.get("batch_first", batch_first) != batch_first:
                    raise UserError(f"attn_cfgs.{index}.batch_first: expected the layer's "
                                    f"{batch_first} (got {cfg['batch_first']!r})")
                cfg["batch_first"] = batch_first
                attention = build_part(cfg, f"attn_cfgs.{index}")
                attention.operation_name = name
                self.attentions.append(attention)
                index += 1
        self.embed_dims = self.attentions[0].embed_dims
        self.ffns = ModuleList()
        num_ffns = operation_order.count("ffn")
        ffn_list = ([copy.deepcopy(dict(ffn_cfgs)) for _ in range(num_ffns)]
                    if isinstance(ffn_cfgs, Mapping) else [dict(c) for c in ffn_cfgs])
        if len(ffn_list) != num_ffns:
            raise UserError(f"ffn_cfgs: expected a dict or {num_ffns} dicts (got {ffn_cfgs!r})")
        for i, cfg in enumerate(ffn_list):
            if cfg.setdefault("embed_dims", self.embed_dims) != self.embed_dims:
                raise UserError(f"ffn_cfgs.{i}.embed_dims: expected the attention's "
                                f"{self.embed_dims} (got {cfg['embed_dims']!r})")
            cfg.setdefault("type", "FFN")
            self.ffns.append(build_part(cfg, f"ffn_cfgs.{i}"))
        self.norms = ModuleList()
        for _ in range(operation_order.count("norm")):
            self.norms.append(build_norm_layer(norm_cfg, self.embed_dims)[1])

    def forward(self, query: torch.Tensor, key: torch.Tensor | None = None,
                value: torch.Tensor | None = None, query_pos: torch.Tensor | None = None,
                key_pos: torch.Tensor | None = None, attn_masks: Any = None,
                query_key_padding_mask: torch.Tensor | None = None,
                key_padding_mask: torch.Tensor | None = None, **kwargs: Any) -> torch.Tensor:
        norm_index = attn_index = ffn_index = 0
        identity = query
        if attn_masks is None:
            attn_masks = [None] * self.num_attn
        elif isinstance(attn_masks, torch.Tensor):
            attn_masks = [attn_masks] * self.num_attn
        elif len(attn_masks) != self.num_attn:
            raise ValueError(f"attn_masks: {len(attn_masks)} masks for {self.num_attn} "
                             f"attentions")
        for layer in self.operation_order:
            if layer == "self_attn":
                query = self.attentions[attn_index](
                    query, query, query, identity if self.pre_norm else None,
                    query_pos=query_pos, key_pos=query_pos, attn_mask=attn_masks[attn_index],
                    key_padding_mask=query_key_padding_mask, **kwargs)
                attn_index += 1
                identity = query
            elif layer == "norm":
                query = self.norms[norm_index](query)
                norm_index += 1
            elif layer == "cross_attn":
                query = self.attentions[attn_index](
                    query, key, value, identity if self.pre_norm else None,
                    query_pos=query_pos, key_pos=key_pos, attn_mask=attn_masks[attn_index],
                    key_padding_mask=key_padding_mask, **kwargs)
                attn_index += 1
                identity = query
            elif layer == "ffn":
                query = self.ffns[ffn_index](query, identity if self.pre_norm else None)
                ffn_index += 1
        return query

"""``SDMGRHead``: SDMGR's graph reasoning over the text boxes of each image.

A node per box: its characters (dictionary indices, -1 padded) embedded and read by an LSTM,
whose state after the last character is the node's text feature; with the visual modality it is
fused with the box's pooled visual feature by ``Block`` (a low-rank bilinear fusion, MUTAN's
block). An edge per ordered pair of boxes of one image: its 5 spatial relations embedded. Each
``GNNLayer`` updates the edges from (node i, node j, edge ij) and adds to each node the
attention-weighted sum of its edges to the other nodes. Linear layers then classify nodes
(``num_classes``) and edges (linked or not).

Names, shapes, construction order and init are MMOCR 0.6.3's: only ``edge_embed`` is
re-initialised (normal, std 0.01, by ``init_cfg``); the rest keep PyTorch's defaults.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule


class SDMGRHead(BaseModule):
    """Args as MMOCR's: ``num_chars`` (92: the dictionary and index 0), ``visual_dim`` (64),
    ``fusion_dim`` (1024), ``node_input`` (32), ``node_embed`` (256), ``edge_input`` (5),
    ``edge_embed`` (256), ``num_gnn`` (2), ``num_classes`` (26), ``loss``
    (``SDMGRLoss``), ``bidirectional`` (False), ``train_cfg``, ``test_cfg``, ``init_cfg``."""

    def __init__(self, num_chars: int = 92, visual_dim: int = 64, fusion_dim: int = 1024,
                 node_input: int = 32, node_embed: int = 256, edge_input: int = 5,
                 edge_embed: int = 256, num_gnn: int = 2, num_classes: int = 26,
                 loss: Mapping = dict(type="SDMGRLoss"),  # noqa: B006
                 bidirectional: bool = False, train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: Any = dict(type="Normal", override=dict(name="edge_embed"),  # noqa
                                      mean=0, std=0.01)):
        super().__init__(init_cfg=init_cfg)
        self.fusion = Block([visual_dim, node_embed], node_embed, fusion_dim)
        self.node_embed = nn.Embedding(num_chars, node_input, 0)
        hidden = node_embed // 2 if bidirectional else node_embed
        self.rnn = nn.LSTM(input_size=node_input, hidden_size=hidden, num_layers=1,
                           batch_first=True, bidirectional=bidirectional)
        self.edge_embed = nn.Linear(edge_input, edge_embed)
        self.gnn_layers = nn.ModuleList(
            [GNNLayer(node_embed, edge_embed) for _ in range(num_gnn)])
        self.node_cls = nn.Linear(node_embed, num_classes)
        self.edge_cls = nn.Linear(edge_embed, 2)
        self.loss = registry.build(registry.COMPONENTS, loss, "model.bbox_head.loss")

    def forward(self, relations: Sequence[torch.Tensor], texts: Sequence[torch.Tensor],
                x: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Node logits ``(sum n_i, num_classes)`` and edge logits ``(sum n_i**2, 2)``."""
        node_nums = [text.size(0) for text in texts]
        char_nums = [(text > 0).sum(-1) for text in texts]
        # at least one step: an LSTM takes no empty sequence (boxes without known characters
        # keep zero text features either way)
        max_num = max([1] + [int(c.max()) for c in char_nums if c.numel()])
        all_nodes = torch.cat([torch.cat([text[:, :max_num], text.new_zeros(
            text.size(0), max(max_num - text.size(1), 0))], -1) for text in texts])
        embed_nodes = self.node_embed(all_nodes.clamp(min=0).long())
        rnn_nodes, _ = self.rnn(embed_nodes)

        nodes = rnn_nodes.new_zeros(*rnn_nodes.shape[::2])
        all_nums = torch.cat(char_nums)
        valid = all_nums > 0
        nodes[valid] = rnn_nodes[valid].gather(1, (all_nums[valid] - 1).unsqueeze(-1).unsqueeze(
            -1).expand(-1, -1, rnn_nodes.size(-1))).squeeze(1)
        if x is not None:
            nodes = self.fusion([x, nodes])

        all_edges = torch.cat([rel.view(-1, rel.size(-1)) for rel in relations])
        embed_edges = F.normalize(self.edge_embed(all_edges.to(self.edge_embed.weight.dtype)))
        for gnn_layer in self.gnn_layers:
            nodes, embed_edges = gnn_layer(nodes, embed_edges, node_nums)
        return self.node_cls(nodes), self.edge_cls(embed_edges)


class GNNLayer(nn.Module):
    """One round: edges from ``[node_i, node_j, edge_ij]``, nodes plus attention over edges."""

    def __init__(self, node_dim: int = 256, edge_dim: int = 256):
        super().__init__()
        self.in_fc = nn.Linear(node_dim * 2 + edge_dim, node_dim)
        self.coef_fc = nn.Linear(node_dim, 1)
        self.out_fc = nn.Linear(node_dim, node_dim)
        self.relu = nn.ReLU()

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor, nums: Sequence[int]
                ) -> tuple[torch.Tensor, torch.Tensor]:
        start, cat_nodes = 0, []
        for num in nums:
            sample_nodes = nodes[start:start + num]
            cat_nodes.append(torch.cat([sample_nodes.unsqueeze(1).expand(-1, num, -1),
                                        sample_nodes.unsqueeze(0).expand(num, -1, -1)],
                                       -1).view(num**2, -1))
            start += num
        cat_nodes = self.relu(self.in_fc(torch.cat([torch.cat(cat_nodes), edges], -1)))
        coefs = self.coef_fc(cat_nodes)

        start, residuals = 0, []
        for num in nums:
            # a node never attends to itself: its own edge's coefficient is pushed to -1e9
            eye = torch.eye(num, device=coefs.device, dtype=coefs.dtype).unsqueeze(-1)
            residual = F.softmax(-eye * 1e9 + coefs[start:start + num**2].view(num, num, -1), 1)
            residuals.append((residual * cat_nodes[start:start + num**2].view(num, num, -1)
                              ).sum(1))
            start += num**2
        return nodes + self.relu(self.out_fc(torch.cat(residuals))), cat_nodes


class Block(nn.Module):
    """MUTAN's fusion block (Ben-younes et al., 2017): both inputs projected to ``mm_dim``,
    split into ``chunks``, each pair merged by a rank-``rank`` bilinear product, signed square
    root and L2 norm, concatenated and projected to ``output_dim``."""

    def __init__(self, input_dims: Sequence[int], output_dim: int, mm_dim: int = 1600,
                 chunks: int = 20, rank: int = 15, shared: bool = False,
                 dropout_input: float = 0., dropout_pre_lin: float = 0.,
                 dropout_output: float = 0., pos_norm: str = "before_cat"):
        super().__init__()
        if pos_norm not in ("before_cat", "after_cat"):
            raise UserError(f"model.bbox_head: Block.pos_norm: expected 'before_cat' or "
                            f"'after_cat' (got {pos_norm!r})")
        self.rank = rank
        self.dropout_input = dropout_input
        self.dropout_pre_lin = dropout_pre_lin
        self.dropout_output = dropout_output
        self.pos_norm = pos_norm
        self.linear0 = nn.Linear(input_dims[0], mm_dim)
        self.linear1 = self.linear0 if shared else nn.Linear(input_dims[1], mm_dim)
        self.merge_linears0 = nn.ModuleList()
        self.merge_linears1 = nn.ModuleList()
        self.chunks = self.chunk_sizes(mm_dim, chunks)
        for size in self.chunks:
            ml0 = nn.Linear(size, size * rank)
            self.merge_linears0.append(ml0)
            self.merge_linears1.append(ml0 if shared else nn.Linear(size, size * rank))
        self.linear_out = nn.Linear(mm_dim, output_dim)

    @staticmethod
    def _signed_sqrt_norm(z: torch.Tensor) -> torch.Tensor:
        return F.normalize(torch.sqrt(F.relu(z)) - torch.sqrt(F.relu(-z)))

    def forward(self, x: Sequence[torch.Tensor]) -> torch.Tensor:
        x0, x1 = self.linear0(x[0]), self.linear1(x[1])
        bs = x1.size(0)
        if self.dropout_input > 0:
            x0 = F.dropout(x0, p=self.dropout_input, training=self.training)
            x1 = F.dropout(x1, p=self.dropout_input, training=self.training)
        zs = []
        for x0_c, x1_c, m0, m1 in zip(torch.split(x0, self.chunks, -1),
                                      torch.split(x1, self.chunks, -1),
                                      self.merge_linears0, self.merge_linears1):
            z = (m0(x0_c) * m1(x1_c)).view(bs, self.rank, -1).sum(1)
            zs.append(self._signed_sqrt_norm(z) if self.pos_norm == "before_cat" else z)
        z = torch.cat(zs, 1)
        if self.pos_norm == "after_cat":
            z = self._signed_sqrt_norm(z)
        if self.dropout_pre_lin > 0:
            z = F.dropout(z, p=self.dropout_pre_lin, training=self.training)
        z = self.linear_out(z)
        if self.dropout_output > 0:
            z = F.dropout(z, p=self.dropout_output, training=self.training)
        return z

    @staticmethod
    def chunk_sizes(dim: int, chunks: int) -> list[int]:
        split_size = (dim + chunks - 1) // chunks
        sizes = [split_size] * chunks
        sizes[-1] = sizes[-1] - (sum(sizes) - dim)
        return sizes

"""``SDMGRLoss``: cross entropy over the nodes (box classes) and the edges (linked or not)."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ocr_ds.models.common.accuracy import accuracy


class SDMGRLoss(nn.Module):
    """Args as MMOCR's: ``node_weight`` (1.0), ``edge_weight`` (1.0), ``ignore`` (-100: the
    node label left out; edges labelled -1, the diagonal, always are).

    ``gts`` are per image ``(n, n + 1)``: column 0 the node labels, the rest the edge labels.
    Returns ``loss_node``, ``loss_edge`` and the logged ``acc_node``, ``acc_edge`` (percent).
    """

    def __init__(self, node_weight: float = 1.0, edge_weight: float = 1.0, ignore: int = -100):
        super().__init__()
        self.loss_node = nn.CrossEntropyLoss(ignore_index=ignore)
        self.loss_edge = nn.CrossEntropyLoss(ignore_index=-1)
        self.node_weight = node_weight
        self.edge_weight = edge_weight
        self.ignore = ignore

    def forward(self, node_preds: torch.Tensor, edge_preds: torch.Tensor,
                gts: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
        node_gts = torch.cat([gt[:, 0] for gt in gts]).long()
        edge_gts = torch.cat([gt[:, 1:].contiguous().view(-1) for gt in gts]).long()
        node_valids = torch.nonzero(node_gts != self.ignore, as_tuple=False).view(-1)
        edge_valids = torch.nonzero(edge_gts != -1, as_tuple=False).view(-1)
        # the cross entropies in float32 (a half model's logits would lose the small terms)
        return dict(
            loss_node=self.node_weight * self.loss_node(node_preds.float(), node_gts),
            loss_edge=self.edge_weight * self.loss_edge(edge_preds.float(), edge_gts),
            acc_node=accuracy(node_preds[node_valids], node_gts[node_valids]),
            acc_edge=accuracy(edge_preds[edge_valids], edge_gts[edge_valids]))

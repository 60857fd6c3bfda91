"""DRRG's graph convolutional network: classifies each (pivot, k-nearest neighbour) edge of a
local graph as a link within one text instance or not (MMOCR 0.6.3's ``GCN``, after
https://github.com/Zhongdao/gcn_clustering).

Plain ``nn.Module``s as in MMOCR, so mmcv's ``init_weights`` walk leaves them as constructed
(Xavier-uniform graph-conv weights, zero biases; torch's defaults for the classifier).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init


class MeanAggregator(nn.Module):
    """Neighbour features averaged by the (normalised) adjacency matrix: ``A @ X``."""

    def forward(self, features: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        return torch.bmm(A, features)


class GraphConv(nn.Module):
    """``relu([X, A @ X] @ W + b)``."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.in_dim = in_dim
        self.out_dim = out_dim
        self.weight = nn.Parameter(torch.empty(in_dim * 2, out_dim))
        self.bias = nn.Parameter(torch.empty(out_dim))
        init.xavier_uniform_(self.weight)
        init.constant_(self.bias, 0)
        self.aggregator = MeanAggregator()

    def forward(self, features: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        cat_feats = torch.cat([features, self.aggregator(features, A)], dim=2)
        return F.relu(torch.einsum("bnd,df->bnf", cat_feats, self.weight) + self.bias)


class GCN(nn.Module):
    """Args:
        feat_len: Length of a node's feature vector.
    """

    def __init__(self, feat_len: int):
        super().__init__()
        self.bn0 = nn.BatchNorm1d(feat_len, affine=False).float()
        self.conv1 = GraphConv(feat_len, 512)
        self.conv2 = GraphConv(512, 256)
        self.conv3 = GraphConv(256, 128)
        self.conv4 = GraphConv(128, 64)
        self.classifier = nn.Sequential(nn.Linear(64, 32), nn.PReLU(32), nn.Linear(32, 2))

    def forward(self, x: torch.Tensor, A: torch.Tensor, knn_inds: torch.Tensor
                ) -> torch.Tensor:
        """``x`` ``(graphs, nodes, feat)``, ``A`` ``(graphs, nodes, nodes)``, ``knn_inds``
        ``(graphs, k)`` -> edge logits ``(graphs * k, 2)``."""
        num_graphs, num_nodes, feat_len = x.shape
        x = self.bn0(x.reshape(-1, feat_len)).reshape(num_graphs, num_nodes, feat_len)
        x = self.conv1(x, A)
        x = self.conv2(x, A)
        x = self.conv3(x, A)
        x = self.conv4(x, A)
        rows = torch.arange(num_graphs, device=x.device)[:, None]
        edge_feat = x[rows, knn_inds.to(x.device)]
        return self.classifier(edge_feat.reshape(-1, x.shape[-1]))

"""The local graphs DRRG's GCN reasons on, as MMOCR 0.6.3 builds them (after
https://github.com/GXYM/DRRG).

Text components are nodes, ordered by distance with a stable sort (MMOCR's quicksort orders
equidistant ones as the numpy version and CPU happen to); a pivot's local graph is its
``k_at_hops[0]`` nearest components and their ``k_at_hops[1]`` nearest ones (the pivot first,
then the others in Python-set order, as MMOCR lists them). Each local graph becomes the GCN's
input: node features minus the pivot's, zero-padded to the largest graph; a symmetric adjacency
matrix linking every node to its ``num_adjacent_linkages`` nearest (when in the graph),
normalised as ``D^-1/2 (A+I) D^-1/2``; and the positions of the pivot's nearest neighbours in
the graph.

:class:`LocalGraphs` does this in training, from ``DRRGTargets``'s component attributes (their
content features pooled from the head's maps with :class:`RoIAlignRotated`, plus an embedding of
their geometry); ``proposals.ProposalLocalGraphs`` at test time.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ocr_ds.models.textdet.drrg.roi_align_rotated import RoIAlignRotated


def normalize_adjacent_matrix(A: np.ndarray) -> np.ndarray:
    """``D^-1/2 (A + I) D^-1/2`` (zero where a degree is 0)."""
    A = A + np.eye(A.shape[0])
    d = np.clip(np.sum(A, axis=0), 0, None)
    with np.errstate(divide="ignore"):
        d_inv = np.power(d, -0.5).flatten()
    d_inv[np.isinf(d_inv)] = 0.0
    d_inv = np.diag(d_inv)
    return A.dot(d_inv).transpose().dot(d_inv)


def euclidean_distance_matrix(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Pairwise distances of the rows of ``A`` and ``B`` (through ``|a|^2 + |b|^2 - 2ab``,
    as MMOCR: the nearest-neighbour order depends on its rounding)."""
    m, n = A.shape[0], B.shape[0]
    a_dots = (A * A).sum(axis=1).reshape((m, 1)) * np.ones(shape=(1, n))
    b_dots = (B * B).sum(axis=1) * np.ones(shape=(m, 1))
    d_squared = a_dots + b_dots - 2 * A.dot(B.T)
    d_squared[np.less(d_squared, 0.0)] = 0.0
    return np.sqrt(d_squared)


def feature_embedding(input_feats: np.ndarray, out_feat_len: int) -> np.ndarray:
    """Sinusoidal embedding of each node's geometry into ``out_feat_len`` values.

    The features are repeated, divided by ``1000 ** (2 * (j // 2) / repeats)`` for repeat j,
    and -- as MMOCR's indexing does -- sine taken on even *nodes* and cosine on odd ones."""
    num_nodes, feat_dim = input_feats.shape
    repeats, residue = divmod(out_feat_len, feat_dim)
    copies = [input_feats] * repeats
    if residue > 0:
        waves = [np.power(1000, 2.0 * (j // 2) / repeats + 1) for j in range(repeats + 1)]
        copies.append(np.hstack([input_feats[:, 0:residue],
                                 np.zeros((num_nodes, feat_dim - residue))]))
    else:
        waves = [np.power(1000, 2.0 * (j // 2) / repeats) for j in range(repeats)]
    embedded = np.stack(copies) / np.array(waves).reshape((-1, 1, 1))
    embedded[:, 0::2] = np.sin(embedded[:, 0::2])
    embedded[:, 1::2] = np.cos(embedded[:, 1::2])
    embedded = np.transpose(embedded, (1, 0, 2)).reshape((num_nodes, -1))
    if residue > 0:
        return embedded[:, 0:out_feat_len]      # float64, as MMOCR
    return embedded.astype(np.float32)


def pivot_graph(pivot_ind: int, sorted_dist_inds: np.ndarray, k_at_hops: Sequence[int]
                ) -> tuple[list, list]:
    """(local graph: the pivot then its 1- and 2-hop neighbours; the pivot and its k-NN)."""
    knn = sorted_dist_inds[pivot_ind, 1:k_at_hops[0] + 1]
    neighbors = set(knn)
    for neighbor_ind in knn:
        neighbors.update(set(sorted_dist_inds[neighbor_ind, 1:k_at_hops[1] + 1]))
    neighbors.discard(pivot_ind)
    return [pivot_ind] + list(neighbors), [pivot_ind] + list(knn)


def graph_tensors(node_feats: torch.Tensor, local_graph: list, knn: list,
                  sorted_dist_inds: np.ndarray, num_linkages: int, num_max_nodes: int
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One local graph's padded node features (minus the pivot's), padded normalised
    adjacency matrix and the positions of the pivot's k-NN in the graph."""
    device = node_feats.device
    num_nodes = len(local_graph)
    node2ind = {j: i for i, j in enumerate(local_graph)}
    knn_inds = torch.tensor([node2ind[i] for i in knn[1:]]).long()
    feats = node_feats[local_graph] - node_feats[local_graph[0]]
    adjacent = np.zeros((num_nodes, num_nodes))
    for node in local_graph:
        for neighbor in sorted_dist_inds[node, 1:num_linkages + 1]:
            if neighbor in local_graph:
                adjacent[node2ind[node], node2ind[neighbor]] = 1
                adjacent[node2ind[neighbor], node2ind[node]] = 1
    pad_adjacent = torch.zeros((num_max_nodes, num_max_nodes), dtype=node_feats.dtype,
                               device=device)
    pad_adjacent[:num_nodes, :num_nodes] = torch.from_numpy(
        normalize_adjacent_matrix(adjacent))
    pad_feats = torch.cat([feats, torch.zeros((num_max_nodes - num_nodes, feats.shape[1]),
                                              dtype=feats.dtype, device=device)], dim=0)
    return pad_feats, pad_adjacent, knn_inds


def node_features(pooling: RoIAlignRotated, feat_map: torch.Tensor, geo_attribs: np.ndarray,
                  geo_feat_len: int, embedding_input: np.ndarray | None = None
                  ) -> torch.Tensor:
    """Content features (rotated RoI-Align of ``feat_map`` ``(1, C, H, W)`` over each
    component ``x, y, h, w`` at its angle) joined to the embedding of its geometry
    (``x, y, h, w, cos, sin``; ``embedding_input`` when it differs)."""
    device = feat_map.device
    angle = (np.arccos(geo_attribs[:, -2]) * np.sign(geo_attribs[:, -1])).reshape((-1, 1))
    batch_id = np.zeros((geo_attribs.shape[0], 1), dtype=np.float32)
    rois = torch.from_numpy(np.hstack([batch_id, geo_attribs[:, :-2], angle])).to(device)
    content = pooling(feat_map, rois)
    content = content.reshape(content.shape[0], -1)
    geo = torch.from_numpy(feature_embedding(
        geo_attribs if embedding_input is None else embedding_input, geo_feat_len)).to(
            device=device, dtype=content.dtype)
    return torch.cat([content, geo], dim=-1)


class LocalGraphs:
    """Training-time local graphs and their GCN labels (MMOCR's ``LocalGraphs``).

    A pivot's graph is skipped when an earlier pivot of the same (non-background) text
    instance, one of whose k-NN it is, has a graph with neighbour IoU above
    ``local_graph_thr``.
    """

    def __init__(self, k_at_hops: Sequence[int], num_adjacent_linkages: int,
                 node_geo_feat_len: int, pooling_scale: float,
                 pooling_output_size: Sequence[int], local_graph_thr: float):
        self.k_at_hops = tuple(k_at_hops)
        self.num_adjacent_linkages = num_adjacent_linkages
        self.node_geo_feat_dim = node_geo_feat_len
        self.pooling = RoIAlignRotated(pooling_output_size, pooling_scale)
        self.local_graph_thr = local_graph_thr

    def generate_local_graphs(self, sorted_dist_inds: np.ndarray, labels: np.ndarray
                              ) -> tuple[list[list], list[list]]:
        graphs: list[list] = []
        knns: list[list] = []
        for pivot_ind in range(len(sorted_dist_inds)):
            graph, knn = pivot_graph(pivot_ind, sorted_dist_inds, self.k_at_hops)
            add = True
            if pivot_ind >= 1:
                others = set(graph[1:])
                for added_graph, added_knn in zip(graphs, knns):
                    added = set(added_graph[1:])
                    iou = len(others & added) / (len(others | added) + 1e-8)
                    if (iou > self.local_graph_thr and pivot_ind in added_knn
                            and labels[added_knn[0]] == labels[pivot_ind]
                            and labels[pivot_ind] != 0):
                        add = False
                        break
            if add:
                graphs.append(graph)
                knns.append(knn)
        return graphs, knns

    def __call__(self, feat_maps: torch.Tensor, comp_attribs: np.ndarray
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``comp_attribs`` ``(N, max_comps, 8)``: count, x, y, h, w, cos, sin, label ->
        (node features, adjacency matrices, k-NN positions, link labels) of every graph."""
        per_image = []
        for b in range(comp_attribs.shape[0]):
            num = int(comp_attribs[b, 0, 0])
            geo = comp_attribs[b, :num, 1:7].copy()
            labels = comp_attribs[b, :num, 7].astype(np.int32)
            distance = euclidean_distance_matrix(geo[:, 0:2], geo[:, 0:2])
            geo[:, -2] = np.clip(geo[:, -2], -1, 1)
            feats = node_features(self.pooling, feat_maps[b].unsqueeze(0), geo,
                                  self.node_geo_feat_dim)
            sorted_dist_inds = np.argsort(distance, axis=1, kind="stable")
            graphs, knns = self.generate_local_graphs(sorted_dist_inds, labels)
            per_image.append((feats, labels, graphs, knns, sorted_dist_inds))

        num_max_nodes = max(len(g) for _, _, graphs, _, _ in per_image for g in graphs)
        all_feats, all_adjacent, all_knn, all_links = [], [], [], []
        for feats, labels, graphs, knns, sorted_dist_inds in per_image:
            for graph, knn in zip(graphs, knns):
                f, a, k = graph_tensors(feats, graph, knn, sorted_dist_inds,
                                        self.num_adjacent_linkages, num_max_nodes)
                knn_labels = labels[graph][k]
                links = (labels[graph[0]] == knn_labels) & (labels[graph[0]] > 0)
                all_feats.append(f)
                all_adjacent.append(a)
                all_knn.append(k)
                all_links.append(torch.from_numpy(links.astype(np.int64)))
        return (torch.stack(all_feats, 0), torch.stack(all_adjacent, 0),
                torch.stack(all_knn, 0), torch.stack(all_links, 0))

"""Key information extraction metrics (MMOCR 0.6.3's ``kie_metric`` and ``OpensetKIEDataset``).

* ``macro_f1``: the per-class F1 of the node classes (argmax of the predicted scores) over all
  boxes of all images, averaged over the classes not in ``ignores``.
* ``openset_f1``: nodes are background/key/value/other; ``edge_openset_f1`` is the F1 of the
  predicted key-value pairs (decoded from the edge scores by ``link_type``),
  ``node_openset_micro_f1`` / ``node_openset_macro_f1`` the F1 of the key and value classes.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

LINK_TYPES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many", "none")


def compute_f1_score(preds: torch.Tensor, gts: torch.Tensor,
                     ignores: Sequence[int] = ()) -> np.ndarray:
    """The F1 of each class not in ``ignores``, from ``(N, C)`` scores and ``N`` labels (all
    samples count; a class never predicted nor labelled has F1 0)."""
    num_classes = preds.size(1)
    classes = torch.LongTensor(sorted(set(range(num_classes)) - set(ignores)))
    hist = torch.bincount(gts * num_classes + preds.argmax(1),
                          minlength=num_classes**2).view(num_classes, num_classes).float()
    diag = torch.diag(hist)
    recalls = diag / hist.sum(1).clamp(min=1)
    precisions = diag / hist.sum(0).clamp(min=1)
    f1 = 2 * recalls * precisions / (recalls + precisions).clamp(min=1e-8)
    return f1[classes].cpu().numpy()


def decode_pairs_gt(labels: Sequence[Any], edge_ids: Sequence[Any], key_node_idx: int = 1,
                    value_node_idx: int = 2) -> list[tuple[int, int]]:
    """Ground-truth ``(key, value)`` pairs: a key and a value with the same edge id."""
    pairs = []
    for i, label in enumerate(labels):
        if label == key_node_idx:
            for j, edge_id in enumerate(edge_ids):
                if edge_id == edge_ids[i] and labels[j] == value_node_idx:
                    pairs.append((i, j))
    return pairs


def decode_pairs_pred(nodes: torch.Tensor, labels: torch.Tensor, edges: torch.Tensor,
                      edge_thr: float = 0.5, link_type: str = "one-to-one"
                      ) -> tuple[list[tuple[int, int]], list[float]]:
    """Predicted ``(key, value)`` pairs and their scores from ``(n, n)`` link scores.

    'none' / 'many-to-many': every pair over ``edge_thr`` ordered key-first by the node
    scores and kept when predicted key and value. Otherwise greedily the best remaining link
    between a predicted key and value, retiring its key (one-to-one, many-to-one) and/or value
    (one-to-one, one-to-many)."""
    edges = torch.max(edges, edges.T)
    if link_type in ("none", "many-to-many"):
        pair_inds = (edges > edge_thr).nonzero(as_tuple=True)
        pairs = [(n1.item(), n2.item()) if nodes[n1, 1] > nodes[n1, 2] else
                 (n2.item(), n1.item()) for n1, n2 in zip(*pair_inds) if n1 < n2]
        pairs = [(i, j) for i, j in pairs if labels[i] == 1 and labels[j] == 2]
    else:
        links = edges.clone()
        links[links <= edge_thr] = -1
        links[labels != 1, :] = -1
        links[:, labels != 2] = -1
        pairs = []
        while (links > -1).any():
            i, j = (int(v) for v in np.unravel_index(int(torch.argmax(links)), links.shape))
            pairs.append((i, j))
            if link_type == "one-to-one":
                links[i, :] = -1
                links[:, j] = -1
            elif link_type == "one-to-many":
                links[:, j] = -1
            elif link_type == "many-to-one":
                links[i, :] = -1
            else:
                raise ValueError(f"link_type: expected one of {LINK_TYPES} (got {link_type!r})")
    return pairs, [edges[i, j].item() for i, j in pairs]


def _f1(recall: float, precision: float) -> float:
    return 2 * recall * precision / max(1, recall + precision)


def compute_openset_f1(preds: Sequence[dict], gts: Sequence[dict], node_classes: int = 4
                       ) -> dict[str, float]:
    """``edge_openset_f1``, ``node_openset_micro_f1``, ``node_openset_macro_f1`` of per-image
    ``{'pairs', 'labels'}`` predictions and ground truths (MMOCR's ``compute_openset_f1``)."""
    edge_hit = edge_gt = edge_pred = 0
    node_hit = dict.fromkeys(range(node_classes), 0)
    node_gt = dict.fromkeys(range(node_classes), 0)
    node_pred = dict.fromkeys(range(node_classes), 0)
    for pred, gt in zip(preds, gts):
        pairs_pred = pred["pairs"]
        edge_hit += sum(1 for pair in gt["pairs"] if pair in pairs_pred)
        edge_gt += len(gt["pairs"])
        edge_pred += len(pairs_pred)
        for i, label in enumerate(gt["labels"]):
            label = int(label)
            node_gt[label] += 1
            if pred["labels"][i] == label:
                node_hit[label] += 1
        for label in pred["labels"]:
            node_pred[label] += 1
    stats = {"edge_openset_f1": _f1(edge_hit / max(1, edge_gt), edge_hit / max(1, edge_pred))}
    cared_hit = cared_gt = cared_pred = 0
    macro = []
    for idx in range(node_classes):
        if idx < 1 or idx > 2:          # key (1) and value (2) only
            continue
        cared_hit += node_hit[idx]
        cared_gt += node_gt[idx]
        cared_pred += node_pred[idx]
        macro.append(_f1(node_hit[idx] / max(1, node_gt[idx]),
                         node_hit[idx] / max(1, node_pred[idx])))
    stats["node_openset_micro_f1"] = _f1(cared_hit / max(1, cared_gt),
                                         cared_hit / max(1, cared_pred))
    stats["node_openset_macro_f1"] = float(np.mean(macro))
    return stats

"""DRRG's decoding: linked text components -> text instances -> boundaries (MMOCR 0.6.3's
``DRRGPostprocessor``, after https://github.com/GXYM/DRRG).

Edges longer than 50 px get score 0; an edge seen twice averages its scores in turn; edges
scoring at least ``link_thr`` join components into connected instances; single-component
instances are dropped. Each instance's components are ordered along the shortest greedy path
through their centres; the midpoints of their top and bottom edges form the two sidelines,
extended by the end components' corners where their outer mid-points fall outside.

MMOCR finds the instances by popping a Python set of node objects (an order that changes from
run to run); here they are numbered by their smallest component, so the boundaries are the
same as MMOCR's as a set and come in a fixed order.
"""
from __future__ import annotations

import functools
import operator

import cv2
import numpy as np
from numpy.linalg import norm

from ocr_ds.errors import bad_value


def graph_propagation(edges: np.ndarray, scores: np.ndarray, text_comps: np.ndarray,
                      edge_len_thr: float = 50.0) -> tuple[np.ndarray, dict]:
    """(the nodes in the edges, sorted; ``{(i, j): score}`` with ``i < j``)."""
    edges = np.sort(edges, axis=1)
    scores = np.array(scores, copy=True)
    centers: dict[int, np.ndarray] = {}

    def center(i: int) -> np.ndarray:
        if i not in centers:
            centers[i] = np.mean(text_comps[i, :8].reshape(4, 2), axis=0)
        return centers[i]

    score_dict: dict[tuple, float] = {}
    for i, (a, b) in enumerate(edges):
        if norm(center(a) - center(b)) > edge_len_thr:
            scores[i] = 0
        if (a, b) in score_dict:
            score_dict[a, b] = 0.5 * (score_dict[a, b] + scores[i])
        else:
            score_dict[a, b] = scores[i]
    return np.unique(edges.flatten()), score_dict


def connected_components(nodes: np.ndarray, score_dict: dict, link_thr: float
                         ) -> list[list[int]]:
    """Components linked by edges scoring ``>= link_thr``, each sorted, ordered by their
    smallest node."""
    parent = {int(n): int(n) for n in nodes}

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for (a, b), score in score_dict.items():
        if score >= link_thr:
            ra, rb = root(int(a)), root(int(b))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    clusters: dict[int, list[int]] = {}
    for n in sorted(parent):
        clusters.setdefault(root(n), []).append(n)
    return [clusters[r] for r in sorted(clusters)]


def clusters2labels(clusters: list[list[int]], num_nodes: int) -> np.ndarray:
    labels = np.zeros(num_nodes)
    for cluster_ind, cluster in enumerate(clusters):
        labels[cluster] = cluster_ind
    return labels


def remove_single(text_comps: np.ndarray, labels: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Drop the components whose label no other component has."""
    values, counts = np.unique(labels, return_counts=True)
    keep = ~np.isin(labels, values[counts == 1])
    return text_comps[keep, :], labels[keep]


def min_connect_path(points: list[list[int]]) -> list[int]:
    """Indices of ``points`` along a greedy shortest path: grow a chain from the first
    point, each time adding the nearest remaining point at whichever end is nearer (ties:
    the later point of equal distance, as MMOCR's dict keyed by length keeps it)."""
    def dist(p: list[int], q: list[int]) -> float:
        return ((p[0] - q[0])**2 + (p[1] - q[1])**2)**0.5

    queue = points.copy()
    path: list[list[int]] = []
    head = tail = queue.pop(0)
    while queue:
        at_head = {dist(p, head): p for p in queue}
        at_tail = {dist(tail, p): p for p in queue}
        key0, key1 = min(at_head), min(at_tail)
        if key0 <= key1:
            start = at_head[key0]
            path.insert(0, [points.index(start), points.index(head)])
            queue.remove(start)
            head = start
        else:
            end = at_tail[key1]
            path.append([points.index(tail), points.index(end)])
            queue.remove(end)
            tail = end
    flat = functools.reduce(operator.concat, path)
    return sorted(set(flat), key=flat.index)


def in_contour(cont: np.ndarray, point: np.ndarray) -> bool:
    x, y = point
    return cv2.pointPolygonTest(cont, (int(x), int(y)), False) > 0.5


def fix_corner(top_line: list, bot_line: list, start_box: np.ndarray, end_box: np.ndarray
               ) -> tuple[list, list]:
    """Add the end boxes' corners where the sidelines' contour misses their mid-points."""
    contour = np.array(top_line + bot_line[::-1])
    if not in_contour(contour, (start_box[0] + start_box[3]) / 2):
        top_line.insert(0, start_box[0].tolist())
        bot_line.insert(0, start_box[3].tolist())
    elif not in_contour(contour, (start_box[1] + start_box[2]) / 2):
        top_line.insert(0, start_box[1].tolist())
        bot_line.insert(0, start_box[2].tolist())
    if not in_contour(contour, (end_box[0] + end_box[3]) / 2):
        top_line.append(end_box[0].tolist())
        bot_line.append(end_box[3].tolist())
    elif not in_contour(contour, (end_box[1] + end_box[2]) / 2):
        top_line.append(end_box[1].tolist())
        bot_line.append(end_box[2].tolist())
    return top_line, bot_line


def comps2boundaries(text_comps: np.ndarray, labels: np.ndarray) -> list[list[float]]:
    boundaries = []
    if len(text_comps) < 1:
        return boundaries
    for cluster_ind in range(0, int(np.max(labels)) + 1):
        inds = np.where(labels == cluster_ind)
        boxes = text_comps[inds, :8].reshape((-1, 4, 2)).astype(np.int32)
        if boxes.shape[0] < 1:
            continue
        score = np.mean(text_comps[inds, -1])
        if boxes.shape[0] > 1:
            boxes = boxes[min_connect_path(np.mean(boxes, axis=1).astype(np.int32).tolist())]
            top_line = np.mean(boxes[:, 0:2, :], axis=1).astype(np.int32).tolist()
            bot_line = np.mean(boxes[:, 2:4, :], axis=1).astype(np.int32).tolist()
            top_line, bot_line = fix_corner(top_line, bot_line, boxes[0], boxes[-1])
            points = top_line + bot_line[::-1]
        else:
            # MMOCR's slice ``2:4:-1`` is empty: a lone box gives its top edge only (never
            # reached: remove_single drops lone components first)
            points = boxes[0, 0:2, :].tolist()
        boundaries.append([p for point in points for p in point] + [score])
    return boundaries


class DRRGPostprocessor:
    """Args:
        link_thr: Edge score at which two components belong to one instance.
    """

    def __init__(self, link_thr: float, **kwargs):
        if not isinstance(link_thr, float):
            raise bad_value("model.bbox_head.postprocessor.link_thr", link_thr, "a float")
        self.link_thr = link_thr

    def __call__(self, edges: np.ndarray, scores: np.ndarray, text_comps: np.ndarray
                 ) -> list[list[float]]:
        nodes, score_dict = graph_propagation(edges, scores, text_comps)
        clusters = connected_components(nodes, score_dict, self.link_thr)
        labels = clusters2labels(clusters, text_comps.shape[0])
        text_comps, labels = remove_single(text_comps, labels)
        return comps2boundaries(text_comps, labels)

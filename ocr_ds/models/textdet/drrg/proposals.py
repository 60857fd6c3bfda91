"""Test-time text components and their local graphs (MMOCR 0.6.3's ``ProposalLocalGraphs``).

In each text-center region (center score above ``center_region_thr`` inside the text region,
holes filled, more than ``center_region_area_thr`` pixels), every pixel whose text score
exceeds ``comp_score_thr`` proposes a rectangle: its predicted top and bottom heights
(x ``comp_shrink_ratio``) along the predicted direction, ``comp_ratio`` x that height wide
(clipped to ``[min_width, max_width]``); components under ``MIN_COMP_HEIGHT`` pixels tall are
not proposed (a bound MMOCR lacks: an untrained model's). Locality-aware NMS (lanms-neo's
``merge_quadrangle_n9``, the library MMOCR calls) merges them; a region whose components lie
mostly outside the text mask is dropped. Each component is re-scored by the mean text score
inside it, and every component is a pivot of a local graph (see :mod:`.graph`).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

from ocr_ds.models.common.mask_ops import fill_hole
from ocr_ds.models.textdet.drrg.graph import (euclidean_distance_matrix, graph_tensors,
                                              node_features, pivot_graph)
from ocr_ds.models.textdet.drrg.roi_align_rotated import RoIAlignRotated

#: text height (top + bottom, in pixels) under which a pixel proposes no component
MIN_COMP_HEIGHT = 1.0


def comp_boxes(comp_centers: np.ndarray, top_height: np.ndarray, bot_height: np.ndarray,
               sin: np.ndarray, cos: np.ndarray, w_h_ratio: float, min_width: float,
               max_width: float) -> np.ndarray:
    """float32 ``(n, 8)`` rectangles tl, tr, br, bl (x, y) of components centred at
    ``comp_centers`` (y, x): the heights run along (sin, cos), the width across; shared with
    ``DRRGTargets``."""
    top_mid = comp_centers + np.hstack([top_height * sin, top_height * cos])
    bot_mid = comp_centers - np.hstack([bot_height * sin, bot_height * cos])
    width = np.clip((top_height + bot_height) * w_h_ratio, min_width, max_width)
    r = width / 2
    half = np.hstack([-r * sin, r * cos])
    tl = top_mid[:, ::-1] - half
    tr = top_mid[:, ::-1] + half
    br = bot_mid[:, ::-1] + half
    bl = bot_mid[:, ::-1] - half
    return np.hstack([tl, tr, br, bl]).astype(np.float32)


def la_nms(comps: np.ndarray, thr: float) -> np.ndarray:
    """Locality-aware NMS of ``(n, 9)`` quadrangles + scores (lanms-neo)."""
    from lanms import merge_quadrangle_n9     # DRRG's only use of it: imported on demand

    return merge_quadrangle_n9(comps, thr)


class ProposalLocalGraphs:
    """Arguments as MMOCR's (``comp_w_h_ratio`` is DRRGHead's ``comp_ratio``)."""

    def __init__(self, k_at_hops: Sequence[int], num_adjacent_linkages: int,
                 node_geo_feat_len: int, pooling_scale: float,
                 pooling_output_size: Sequence[int], nms_thr: float, min_width: float,
                 max_width: float, comp_shrink_ratio: float, comp_w_h_ratio: float,
                 comp_score_thr: float, text_region_thr: float, center_region_thr: float,
                 center_region_area_thr: int):
        self.k_at_hops = tuple(k_at_hops)
        self.active_connection = num_adjacent_linkages
        self.node_geo_feat_dim = node_geo_feat_len
        self.pooling = RoIAlignRotated(pooling_output_size, pooling_scale)
        self.nms_thr = nms_thr
        self.min_width = min_width
        self.max_width = max_width
        self.comp_shrink_ratio = comp_shrink_ratio
        self.comp_w_h_ratio = comp_w_h_ratio
        self.comp_score_thr = comp_score_thr
        self.text_region_thr = text_region_thr
        self.center_region_thr = center_region_thr
        self.center_region_area_thr = center_region_area_thr

    def propose_comps(self, score_map: np.ndarray, top_height_map: np.ndarray,
                      bot_height_map: np.ndarray, sin_map: np.ndarray, cos_map: np.ndarray
                      ) -> np.ndarray:
        """``(n, 9)`` components (box + score) at the pixels scoring over the threshold."""
        centers = np.argwhere(score_map > self.comp_score_thr)
        # stable: row by row, left to right within a row (MMOCR's quicksort shuffles each
        # row's pixels as the numpy version and CPU happen to, and the NMS is order-dependent)
        centers = centers[np.argsort(centers[:, 0], kind="stable")]
        y, x = centers[:, 0], centers[:, 1]
        top = top_height_map[y, x].reshape((-1, 1)) * self.comp_shrink_ratio
        bot = bot_height_map[y, x].reshape((-1, 1)) * self.comp_shrink_ratio
        # A bound MMOCR does not have: components under MIN_COMP_HEIGHT tall are dropped. An
        # untrained model predicts ~0.01 px everywhere its (~0.5) scores call text: a
        # component per pixel that never merges, and lanms' NMS would take hours over them
        keep = (top + bot)[:, 0] >= MIN_COMP_HEIGHT
        centers, y, x, top, bot = centers[keep], y[keep], x[keep], top[keep], bot[keep]
        boxes = comp_boxes(centers, top, bot, sin_map[y, x].reshape((-1, 1)),
                           cos_map[y, x].reshape((-1, 1)), self.comp_w_h_ratio,
                           self.min_width, self.max_width)
        return np.hstack([boxes, score_map[y, x].reshape((-1, 1))])

    def propose_comps_and_attribs(self, text_region_map: np.ndarray,
                                  center_region_map: np.ndarray, top_height_map: np.ndarray,
                                  bot_height_map: np.ndarray, sin_map: np.ndarray,
                                  cos_map: np.ndarray
                                  ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(attributes x, y, h, w, cos, sin; components (n, 9)) or (None, None)."""
        text_mask = text_region_map > self.text_region_thr
        center_region_mask = (center_region_map > self.center_region_thr) * text_mask
        scale = np.sqrt(1.0 / (sin_map**2 + cos_map**2 + 1e-8))
        sin_map, cos_map = sin_map * scale, cos_map * scale
        center_region_mask = fill_hole(center_region_mask)
        contours, _ = cv2.findContours(center_region_mask.astype(np.uint8), cv2.RETR_TREE,
                                       cv2.CHAIN_APPROX_SIMPLE)
        mask_sz = center_region_map.shape
        comp_list = []
        for contour in contours:
            current_center_mask = np.zeros(mask_sz)
            cv2.drawContours(current_center_mask, [contour], -1, 1, -1)
            if current_center_mask.sum() <= self.center_region_area_thr:
                continue
            proposals = self.propose_comps(text_region_map * current_center_mask,
                                           top_height_map, bot_height_map, sin_map, cos_map)
            if len(proposals) == 0:
                continue
            text_comps = la_nms(proposals, self.nms_thr)
            text_comp_mask = np.zeros(mask_sz)
            cv2.drawContours(text_comp_mask, text_comps[:, :8].reshape((-1, 4, 2)).astype(
                np.int32), -1, 1, -1)
            if (text_comp_mask * text_mask).sum() < text_comp_mask.sum() * 0.5:
                continue
            if text_comps.shape[-1] > 0:
                comp_list.append(text_comps)
        if len(comp_list) <= 0:
            return None, None

        text_comps = np.vstack(comp_list)
        boxes = text_comps[:, :8].reshape((-1, 4, 2))
        centers = np.mean(boxes, axis=1).astype(np.int32)
        x, y = centers[:, 0], centers[:, 1]
        scores = []
        for box in boxes:      # clipped in place, as MMOCR (the components keep it)
            box[:, 0] = np.clip(box[:, 0], 0, mask_sz[1] - 1)
            box[:, 1] = np.clip(box[:, 1], 0, mask_sz[0] - 1)
            min_coord = np.min(box, axis=0).astype(np.int32)
            max_coord = np.max(box, axis=0).astype(np.int32)
            box_sz = max_coord - min_coord + 1
            comp_mask = np.zeros((box_sz[1], box_sz[0]), dtype=np.uint8)
            cv2.fillPoly(comp_mask, [(box - min_coord).astype(np.int32)], 1)
            patch = text_region_map[min_coord[1]:max_coord[1] + 1,
                                    min_coord[0]:max_coord[0] + 1]
            scores.append(cv2.mean(patch, comp_mask)[0])
        text_comps = np.hstack([text_comps[:, :-1], np.array(scores).reshape((-1, 1))])

        h = top_height_map[y, x].reshape((-1, 1)) + bot_height_map[y, x].reshape((-1, 1))
        w = np.clip(h * self.comp_w_h_ratio, self.min_width, self.max_width)
        comp_attribs = np.hstack([x.reshape((-1, 1)), y.reshape((-1, 1)), h, w,
                                  cos_map[y, x].reshape((-1, 1)),
                                  sin_map[y, x].reshape((-1, 1))])
        return comp_attribs, text_comps

    def generate_local_graphs(self, sorted_dist_inds: np.ndarray, node_feats: torch.Tensor
                              ) -> tuple[torch.Tensor, ...]:
        """Every component's local graph: (node features, adjacency, k-NN positions, the
        graph's component indices zero-padded)."""
        graphs = [pivot_graph(i, sorted_dist_inds, self.k_at_hops)
                  for i in range(len(sorted_dist_inds))]
        num_max_nodes = max(len(g) for g, _ in graphs)
        feats, adjacent, knn_inds, nodes = [], [], [], []
        for graph, knn in graphs:
            f, a, k = graph_tensors(node_feats, graph, knn, sorted_dist_inds,
                                    self.active_connection, num_max_nodes)
            feats.append(f)
            adjacent.append(a)
            knn_inds.append(k.to(node_feats.device))
            nodes.append(torch.cat([torch.tensor(graph),
                                    torch.zeros(num_max_nodes - len(graph), dtype=torch.long)]))
        return (torch.stack(feats, 0), torch.stack(adjacent, 0), torch.stack(knn_inds, 0),
                torch.stack(nodes, 0))

    def __call__(self, preds: torch.Tensor, feat_maps: torch.Tensor
                 ) -> tuple[bool, tuple]:
        """``preds`` ``(6, H, W)`` (or ``(1, 6, H, W)``) head maps, ``feat_maps``
        ``(1, C, H, W)`` -> (no graph?, (node features, adjacency, k-NN positions, graph
        nodes, components))."""
        if preds.ndim == 4:
            preds = preds[0]
        maps = preds.detach().float().cpu()
        comp_attribs, text_comps = self.propose_comps_and_attribs(
            torch.sigmoid(maps[0]).numpy(), torch.sigmoid(maps[1]).numpy(), maps[4].numpy(),
            maps[5].numpy(), maps[2].numpy(), maps[3].numpy())
        if comp_attribs is None or len(comp_attribs) < 2:
            return True, (0, 0, 0, 0, 0)
        distance = euclidean_distance_matrix(comp_attribs[:, 0:2], comp_attribs[:, 0:2])
        node_feats = node_features(self.pooling, feat_maps, comp_attribs.astype(np.float32),
                                   self.node_geo_feat_dim, embedding_input=comp_attribs)
        sorted_dist_inds = np.argsort(distance, axis=1, kind="stable")
        return False, self.generate_local_graphs(sorted_dist_inds, node_feats) + (text_comps,)

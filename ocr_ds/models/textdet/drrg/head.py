"""``DRRGHead``: a 1x1 conv from the neck's map to 6 channels (text region and text center
logits, sin and cos of the text direction, top and bottom heights), and the GCN that links
text components into instances -- over training graphs of ``DRRGTargets``'s components, or
test-time graphs of the components proposed from the maps.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import bad_value
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.textdet.drrg.gcn import GCN
from ocr_ds.models.textdet.drrg.graph import LocalGraphs
from ocr_ds.models.textdet.drrg.proposals import ProposalLocalGraphs
from ocr_ds.models.textdet.head_mixin import (HeadMixin, rescale_boundaries, scale_factor_xy,
                                              with_old_keys)

_FLOATS = ("pooling_scale", "nms_thr", "min_width", "max_width", "comp_shrink_ratio",
           "comp_ratio", "comp_score_thr", "text_region_thr", "center_region_thr",
           "local_graph_thr")


class DRRGHead(HeadMixin, BaseModule):
    """DRRG head (Zhang et al., CVPR 2020), MMOCR 0.6.3's arguments and module names.

    Args:
        in_channels: Channels of the neck's map.
        k_at_hops: Neighbours at hop 1 and 2 of a local graph. Defaults to (8, 4).
        num_adjacent_linkages: Nearest neighbours linked in a graph. Defaults to 3.
        node_geo_feat_len: Length of a component's geometry embedding. Defaults to 120.
        pooling_scale: Rotated RoI-Align's spatial scale. Defaults to 1.0.
        pooling_output_size: Its output size. Defaults to (4, 3).
        nms_thr: Locality-aware NMS threshold of proposed components. Defaults to 0.3.
        min_width, max_width: Component width bounds. Defaults to 8.0, 24.0.
        comp_shrink_ratio: Height multiplier of proposed components. Defaults to 1.03.
        comp_ratio: Component width / height. Defaults to 0.4.
        comp_score_thr: Text score of a proposing pixel. Defaults to 0.3.
        text_region_thr, center_region_thr: Map thresholds. Defaults to 0.2, 0.2.
        center_region_area_thr: Smallest center region, in pixels. Defaults to 50.
        local_graph_thr: Training graphs this similar to an earlier one are skipped.
            Defaults to 0.7.
        loss: Defaults to ``dict(type='DRRGLoss')``.
        postprocessor: Defaults to ``dict(type='DRRGPostprocessor', link_thr=0.85)``.
        init_cfg: Defaults to Normal(0, 0.01) on ``out_conv``.
    """

    def __init__(self, in_channels: int, k_at_hops: Sequence[int] = (8, 4),
                 num_adjacent_linkages: int = 3, node_geo_feat_len: int = 120,
                 pooling_scale: float = 1.0, pooling_output_size: Sequence[int] = (4, 3),
                 nms_thr: float = 0.3, min_width: float = 8.0, max_width: float = 24.0,
                 comp_shrink_ratio: float = 1.03, comp_ratio: float = 0.4,
                 comp_score_thr: float = 0.3, text_region_thr: float = 0.2,
                 center_region_thr: float = 0.2, center_region_area_thr: int = 50,
                 local_graph_thr: float = 0.7,
                 loss: Mapping = dict(type="DRRGLoss"),  # noqa: B006
                 postprocessor: Mapping = dict(type="DRRGPostprocessor",  # noqa: B006
                                               link_thr=0.85),
                 train_cfg: Any = None, test_cfg: Any = None,
                 init_cfg: Any = dict(type="Normal", override=dict(name="out_conv"),  # noqa: B006
                                      mean=0, std=0.01),
                 **kwargs: Any):
        unknown = sorted(set(kwargs) - {"text_repr_type", "decoding_type", "link_thr"})
        if unknown:
            raise bad_value("model.bbox_head", unknown[0], "a known DRRGHead argument")
        BaseModule.__init__(self, init_cfg=init_cfg)
        HeadMixin.__init__(self, loss, with_old_keys(postprocessor, **kwargs))
        if not isinstance(in_channels, int) or in_channels < 1:
            raise bad_value("model.bbox_head.in_channels", in_channels, "a channel count")
        values = dict(pooling_scale=pooling_scale, nms_thr=nms_thr, min_width=min_width,
                      max_width=max_width, comp_shrink_ratio=comp_shrink_ratio,
                      comp_ratio=comp_ratio, comp_score_thr=comp_score_thr,
                      text_region_thr=text_region_thr, center_region_thr=center_region_thr,
                      local_graph_thr=local_graph_thr)
        for name in _FLOATS:       # MMOCR asserts floats: 1 instead of 1.0 is refused there too
            if not isinstance(values[name], float):
                raise bad_value(f"model.bbox_head.{name}", values[name], "a float")
        if (not isinstance(k_at_hops, (tuple, list)) or len(k_at_hops) != 2
                or not all(isinstance(k, int) and k > 0 for k in k_at_hops)):
            raise bad_value("model.bbox_head.k_at_hops", k_at_hops, "two neighbour counts")
        self.in_channels = in_channels
        self.out_channels = 6
        self.downsample_ratio = 1.0
        self.k_at_hops = tuple(k_at_hops)
        self.pooling_output_size = tuple(pooling_output_size)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.out_conv = nn.Conv2d(in_channels, self.out_channels, kernel_size=1, stride=1,
                                  padding=0)
        self.graph_train = LocalGraphs(self.k_at_hops, num_adjacent_linkages,
                                       node_geo_feat_len, pooling_scale,
                                       self.pooling_output_size, local_graph_thr)
        self.graph_test = ProposalLocalGraphs(
            self.k_at_hops, num_adjacent_linkages, node_geo_feat_len, pooling_scale,
            self.pooling_output_size, nms_thr, min_width, max_width, comp_shrink_ratio,
            comp_ratio, comp_score_thr, text_region_thr, center_region_thr,
            center_region_area_thr)
        pool_w, pool_h = self.pooling_output_size
        self.gcn = GCN(pool_w * pool_h * (in_channels + self.out_channels) + node_geo_feat_len)

    def forward(self, inputs: torch.Tensor, gt_comp_attribs: torch.Tensor | np.ndarray
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Training: (maps ``(N, 6, H, W)``, (GCN edge logits, their labels))."""
        pred_maps = self.out_conv(inputs)
        feat_maps = torch.cat([inputs, pred_maps], dim=1)
        if isinstance(gt_comp_attribs, torch.Tensor):
            gt_comp_attribs = gt_comp_attribs.detach().float().cpu().numpy()
        node_feats, adjacent, knn_inds, gt_labels = self.graph_train(
            feat_maps, np.array(gt_comp_attribs, dtype=np.float32))
        gcn_pred = self.gcn(node_feats, adjacent, knn_inds)
        return pred_maps, (gcn_pred, gt_labels)

    def single_test(self, feat_maps: torch.Tensor
                    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """One image ``(1, C, H, W)`` -> (edges ``(E, 2)``, their link scores, components
        ``(n, 9)``), or three Nones when fewer than two components are found."""
        pred_maps = self.out_conv(feat_maps)
        feat_maps = torch.cat([feat_maps, pred_maps], dim=1)
        none_flag, graph_data = self.graph_test(pred_maps, feat_maps)
        if none_flag:
            # MMOCR runs no GCN here; it runs on no graph (output unused) so that every rank
            # runs the same modules whatever its images (DeepSpeed ZeRO-3 gathers the GCN's
            # weights as it runs: a rank running it alone would wait for the others forever)
            self.gcn(feat_maps.new_zeros(0, 1, self.gcn.bn0.num_features),
                     feat_maps.new_zeros(0, 1, 1),
                     feat_maps.new_zeros((0, self.k_at_hops[0]), dtype=torch.long))
            return None, None, None
        node_feats, adjacent, knn_inds, local_graphs, text_comps = graph_data
        pred_labels = F.softmax(self.gcn(node_feats, adjacent, knn_inds), dim=1)
        graphs = local_graphs.long().cpu().numpy()
        knn = knn_inds.cpu().numpy()
        pivots = np.repeat(graphs[:, 0], knn.shape[1])
        neighbors = graphs[np.arange(len(graphs))[:, None], knn].reshape(-1)
        edges = np.stack([pivots, neighbors], axis=1)
        scores = pred_labels[:, 1].detach().cpu().double().numpy()
        return edges, scores, text_comps

    def get_boundary(self, edges: np.ndarray | None, scores: np.ndarray | None,
                     text_comps: np.ndarray | None, img_meta: Mapping[str, Any]) -> dict:
        """Boundaries in the original image's coordinates."""
        boundaries = []
        if edges is not None:
            boundaries = self.postprocessor(edges, scores, text_comps)
        factor = 1.0 / self.downsample_ratio / scale_factor_xy(img_meta)
        return dict(boundary_result=rescale_boundaries(boundaries, factor))

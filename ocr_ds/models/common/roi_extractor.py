"""mmdet 2.28.2's ``SingleRoIExtractor`` and ``bbox2roi``: RoIAlign features of boxes from one
level of a feature pyramid (Mask R-CNN's box and mask heads; SDMGR's visual modality, one level
at stride 1).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from ocr_ds import registry
from ocr_ds.models.common.base import BaseModule, call_weightless


def bbox2roi(bbox_list: Sequence[torch.Tensor]) -> torch.Tensor:
    """Per-image boxes -> ``(R, 5)`` rois ``(image index, x1, y1, x2, y2)``."""
    rois = []
    for img_id, bboxes in enumerate(bbox_list):
        if bboxes.size(0) > 0:
            rois.append(torch.cat([bboxes.new_full((bboxes.size(0), 1), img_id),
                                   bboxes[:, :4]], dim=-1))
        else:
            rois.append(bboxes.new_zeros((0, 5)))
    return torch.cat(rois, 0)


class SingleRoIExtractor(BaseModule):
    """RoIAlign from one level per RoI: level ``floor(log2(sqrt(area) / finest_scale))``,
    clamped to the levels there are."""

    def __init__(self, roi_layer: Mapping, out_channels: int, featmap_strides: Sequence[int],
                 finest_scale: int = 56, init_cfg: Any = None):
        super().__init__(init_cfg)
        self.roi_layers = torch.nn.ModuleList(
            [registry.build(registry.COMPONENTS, roi_layer, "roi_layer", spatial_scale=1 / s)
             for s in featmap_strides])
        self.out_channels = out_channels
        self.featmap_strides = list(featmap_strides)
        self.finest_scale = finest_scale

    @property
    def num_inputs(self) -> int:
        return len(self.featmap_strides)

    def map_roi_levels(self, rois: torch.Tensor, num_levels: int) -> torch.Tensor:
        scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
        lvls = torch.floor(torch.log2(scale / self.finest_scale + 1e-6))
        return lvls.clamp(min=0, max=num_levels - 1).long()

    def forward(self, feats: Sequence[torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        # pooled in float32, returned in the features' dtype (mmdet's force_fp32, out_fp16)
        dtype = feats[0].dtype
        return self._pool([f.float() for f in feats], rois.float()).to(dtype)

    def _pool(self, feats: Sequence[torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        # which levels pool depends on where the RoIs fall: the (weightless) RoI layers run
        # outside DeepSpeed ZeRO-3's module trace, which must be the same on every rank
        out_size = self.roi_layers[0].output_size
        roi_feats = feats[0].new_zeros(rois.size(0), self.out_channels, *out_size)
        if len(feats) == 1:
            return roi_feats if len(rois) == 0 else \
                call_weightless(self.roi_layers[0], feats[0], rois)
        lvls = self.map_roi_levels(rois, len(feats))
        for i in range(len(feats)):
            inds = (lvls == i).nonzero(as_tuple=False).squeeze(1)
            if inds.numel() > 0:
                roi_feats[inds] = call_weightless(self.roi_layers[i], feats[i], rois[inds])
            else:
                # keeps every level in the graph, as mmdet does (no unused parameters)
                roi_feats = roi_feats + feats[i].sum() * 0.0
        return roi_feats

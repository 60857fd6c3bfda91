"""``SDMGR``: MMOCR 0.6.3's key information extraction model.

The batch carries, per image, its boxes' ``texts`` (dictionary indices, -1 padded), their
pairwise ``relations`` (``(n, n, 5)``), ``gt_bboxes`` and, in training, ``gt_labels``
(``(n, n + 1)``: node class, then the edge labels). With ``visual_modality`` the backbone's
(``UNet``) finest map is pooled per box by RoIAlign (``extractor``) and a max-pool to one
vector per box; without it the backbone is built (its weights are in MMOCR's checkpoints) but
not run. Training returns ``loss_node``, ``loss_edge``, ``acc_node``, ``acc_edge``; testing
returns per image ``{'nodes': (n, num_classes) softmax, 'edges': (n * n, 2) softmax,
'img_metas': [its meta]}``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ShowResultMixin
from ocr_ds.models.common.roi_extractor import bbox2roi

_EXTRACTOR = dict(type="mmdet.SingleRoIExtractor", roi_layer=dict(type="RoIAlign", output_size=7),
                  featmap_strides=[1])


def _tensors(values: Sequence[Any], dtype: torch.dtype, device: torch.device
             ) -> list[torch.Tensor]:
    return [torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v,
                            device=device).to(dtype) for v in values]


class SDMGR(ShowResultMixin, BaseModule):
    """Args as MMOCR's: ``backbone``, ``neck`` (None), ``bbox_head`` (``SDMGRHead``),
    ``extractor`` (mmdet's ``SingleRoIExtractor`` with a 7x7 ``RoIAlign`` at stride 1; its
    ``out_channels`` is the backbone's ``base_channels``), ``visual_modality`` (False),
    ``train_cfg``, ``test_cfg``, ``class_list`` (class index -> name file, for pictures),
    ``init_cfg``, ``openset`` (False)."""

    show_args = ("boxes", "win_name", "show", "wait_time", "out_file")   # MMOCR's SDMGR

    def show_settings(self) -> dict[str, Any]:
        from ocr_ds.engine.show import read_class_list

        names = read_class_list(str(self.class_list)) if self.class_list else None
        return dict(idx_to_cls=names, openset=self.openset)

    def __init__(self, backbone: Mapping, neck: Mapping | None = None,
                 bbox_head: Mapping | None = None, extractor: Mapping = _EXTRACTOR,
                 visual_modality: bool = False, train_cfg: Any = None, test_cfg: Any = None,
                 class_list: str | None = None, init_cfg: Any = None, openset: bool = False):
        super().__init__(init_cfg)
        if bbox_head is None:
            raise UserError("model.bbox_head: SDMGR needs a head (got None)")
        self.backbone = registry.build(registry.COMPONENTS, backbone, "model.backbone")
        if neck is not None:
            self.neck = registry.build(registry.COMPONENTS, neck, "model.neck")
        self.bbox_head = registry.build(registry.COMPONENTS, dict(
            bbox_head, train_cfg=train_cfg, test_cfg=test_cfg), "model.bbox_head")
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.visual_modality = visual_modality
        if visual_modality:
            channels = getattr(self.backbone, "base_channels", None)
            if channels is None:
                raise UserError("model.backbone: the visual modality pools the backbone's "
                                "finest map of base_channels channels; expected a backbone "
                                "with base_channels (UNet)")
            self.extractor = registry.build(registry.COMPONENTS, dict(
                extractor, out_channels=channels), "model.extractor")
            self.maxpool = nn.MaxPool2d(extractor["roi_layer"]["output_size"])
        else:
            self.extractor = None
        self.class_list = class_list
        self.openset = openset

    def extract_feat(self, img: torch.Tensor, gt_bboxes: Sequence[torch.Tensor]
                     ) -> torch.Tensor | None:
        if not self.visual_modality:
            return None
        x = self.backbone(img)
        if hasattr(self, "neck"):
            x = self.neck(x)
        feats = self.maxpool(self.extractor([x[-1]], bbox2roi(gt_bboxes)))
        return feats.view(feats.size(0), -1)

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True
                ) -> dict[str, Any] | list[dict]:
        missing = [k for k in ("relations", "texts", "gt_bboxes") if k not in batch]
        if return_loss and "gt_labels" not in batch:
            missing.append("gt_labels")
        if missing:
            raise UserError(f"data pipeline: the batch lacks {', '.join(missing)}; an SDMGR "
                            "pipeline needs LoadAnnotations, KIEFormatBundle and Collect(keys="
                            "['img', 'relations', 'texts', 'gt_bboxes'(, 'gt_labels')])")
        img = batch["img"]
        dtype = self.bbox_head.edge_embed.weight.dtype
        dev = self.bbox_head.edge_embed.weight.device
        relations = _tensors(batch["relations"], dtype, dev)
        texts = _tensors(batch["texts"], torch.long, dev)
        gt_bboxes = [b.reshape(-1, 4) for b in _tensors(batch["gt_bboxes"], torch.float32, dev)]
        metas = batch.get("img_metas") or [{} for _ in texts]
        x = self.extract_feat(img, gt_bboxes)
        node_preds, edge_preds = self.bbox_head(relations, texts, x)
        if return_loss:
            gt_labels = _tensors(batch["gt_labels"], torch.long, dev)
            return self.bbox_head.loss(node_preds, edge_preds, gt_labels)
        return self.split_results(node_preds, edge_preds, [t.size(0) for t in texts], metas)

    @staticmethod
    def split_results(node_preds: torch.Tensor, edge_preds: torch.Tensor, nums: Sequence[int],
                      metas: Sequence[Mapping]) -> list[dict[str, Any]]:
        """Per image its nodes' and edges' softmax (MMOCR returns one dict for the batch, so
        its configs test one image per batch)."""
        nodes, edges = F.softmax(node_preds, -1), F.softmax(edge_preds, -1)
        out, n0, e0 = [], 0, 0
        for num, meta in zip(nums, metas):
            out.append(dict(img_metas=[meta], nodes=nodes[n0:n0 + num],
                            edges=edges[e0:e0 + num * num]))
            n0, e0 = n0 + num, e0 + num * num
        return out

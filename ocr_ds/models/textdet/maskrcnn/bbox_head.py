"""mmdet 2.28.2's ``Shared2FCBBoxHead``: two shared fully connected layers on each RoI's 7x7
features, then class scores (``num_classes`` + background) and per-class box deltas; its
targets, losses (``loss_cls``, ``acc``, ``loss_bbox``) and test-time boxes."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.accuracy import accuracy
from ocr_ds.models.common.base import BaseModule, call_weightless
from ocr_ds.models.textdet.maskrcnn.bbox_ops import multiclass_nms


class Shared2FCBBoxHead(BaseModule):
    """Args as mmdet's (``in_channels``, ``fc_out_channels``, ``roi_feat_size``,
    ``num_classes``, ``bbox_coder``, ``reg_class_agnostic``, ``loss_cls``, ``loss_bbox``)."""

    def __init__(self, fc_out_channels: int = 1024, in_channels: int = 256,
                 roi_feat_size: int = 7, num_classes: int = 80,
                 bbox_coder: Mapping | None = None, reg_class_agnostic: bool = False,
                 reg_decoded_bbox: bool = False, loss_cls: Mapping | None = None,
                 loss_bbox: Mapping | None = None, init_cfg: Any = None, **kwargs: Any):
        super().__init__(init_cfg)
        key = "model.roi_head.bbox_head"
        if kwargs or reg_decoded_bbox:
            raise UserError(f"{key}: ocr_ds's Shared2FCBBoxHead does not take "
                            f"{sorted(kwargs) or ['reg_decoded_bbox']}")
        self.in_channels = in_channels
        self.roi_feat_area = roi_feat_size * roi_feat_size
        self.num_classes = num_classes
        self.reg_class_agnostic = reg_class_agnostic
        build = registry.build
        self.bbox_coder = build(registry.COMPONENTS, bbox_coder or dict(
            type="DeltaXYWHBBoxCoder", target_stds=[0.1, 0.1, 0.2, 0.2]), f"{key}.bbox_coder")
        self.loss_cls = build(registry.COMPONENTS, loss_cls or dict(type="CrossEntropyLoss"),
                              f"{key}.loss_cls")
        self.loss_bbox = build(registry.COMPONENTS, loss_bbox or dict(
            type="SmoothL1Loss", beta=1.0), f"{key}.loss_bbox")
        reg_out = 4 if reg_class_agnostic else 4 * num_classes
        # mmdet's BBoxHead builds predictors on the flat RoI features first and ConvFCBBoxHead
        # replaces them: built here too, so a seeded construction draws the same numbers and
        # the state dict lists fc_cls/fc_reg first, as MMOCR's does
        flat = in_channels * self.roi_feat_area
        self.fc_cls = nn.Linear(flat, num_classes + 1)
        self.fc_reg = nn.Linear(flat, reg_out)
        self.shared_fcs = nn.ModuleList([nn.Linear(flat, fc_out_channels),
                                         nn.Linear(fc_out_channels, fc_out_channels)])
        self.relu = nn.ReLU(inplace=True)
        self.fc_cls = nn.Linear(fc_out_channels, num_classes + 1)
        self.fc_reg = nn.Linear(fc_out_channels, reg_out)
        if init_cfg is None:
            self.init_cfg = [
                dict(type="Normal", std=0.01, override=dict(name="fc_cls")),
                dict(type="Normal", std=0.001, override=dict(name="fc_reg")),
                dict(type="Xavier", distribution="uniform",
                     override=[dict(name="shared_fcs")])]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.flatten(1)
        for fc in self.shared_fcs:
            x = self.relu(fc(x))
        return self.fc_cls(x), self.fc_reg(x)

    def get_targets(self, sampling_results: Sequence[Any], rcnn_train_cfg: Mapping
                    ) -> tuple[torch.Tensor, ...]:
        """Labels, label weights, box targets and weights of all images' samples, concatenated
        (positives first within each image)."""
        out = []
        pos_weight = rcnn_train_cfg.get("pos_weight", -1)
        for res in sampling_results:
            num_pos, num_neg = res.pos_bboxes.size(0), res.neg_bboxes.size(0)
            n = num_pos + num_neg
            labels = res.pos_bboxes.new_full((n,), self.num_classes, dtype=torch.long)
            label_weights = res.pos_bboxes.new_zeros(n)
            targets = res.pos_bboxes.new_zeros(n, 4)
            weights = res.pos_bboxes.new_zeros(n, 4)
            if num_pos > 0:
                labels[:num_pos] = res.pos_gt_labels
                label_weights[:num_pos] = 1.0 if pos_weight <= 0 else pos_weight
                targets[:num_pos, :] = self.bbox_coder.encode(res.pos_bboxes, res.pos_gt_bboxes)
                weights[:num_pos, :] = 1
            if num_neg > 0:
                label_weights[-num_neg:] = 1.0
            out.append((labels, label_weights, targets, weights))
        return tuple(torch.cat(parts, 0) for parts in zip(*out))

    def loss(self, cls_score: torch.Tensor | None, bbox_pred: torch.Tensor | None,
             rois: torch.Tensor, labels: torch.Tensor, label_weights: torch.Tensor,
             bbox_targets: torch.Tensor | None, bbox_weights: torch.Tensor | None,
             reduction_override: str | None = None) -> dict[str, torch.Tensor]:
        losses = {}
        # the losses run for some data only (positives, RoIs): outside DeepSpeed ZeRO-3's
        # module trace (call_weightless), which must be the same on every rank;
        # in float32 whatever the model's dtype (mmdet's force_fp32)
        cls_score = None if cls_score is None else cls_score.float()
        bbox_pred = None if bbox_pred is None else bbox_pred.float()
        if cls_score is not None:
            avg_factor = max(torch.sum(label_weights > 0).float().item(), 1.0)
            if cls_score.numel() > 0:
                losses["loss_cls"] = call_weightless(self.loss_cls, cls_score, labels,
                                                     label_weights, avg_factor=avg_factor,
                                                     reduction_override=reduction_override)
                losses["acc"] = accuracy(cls_score, labels)
        if bbox_pred is not None:
            pos = (labels >= 0) & (labels < self.num_classes)
            if pos.any():
                if self.reg_class_agnostic:
                    pos_pred = bbox_pred.view(bbox_pred.size(0), 4)[pos]
                else:
                    pos_pred = bbox_pred.view(bbox_pred.size(0), -1, 4)[pos, labels[pos]]
                losses["loss_bbox"] = call_weightless(self.loss_bbox, pos_pred,
                                                      bbox_targets[pos], bbox_weights[pos],
                                                      avg_factor=bbox_targets.size(0),
                                                      reduction_override=reduction_override)
            else:
                losses["loss_bbox"] = bbox_pred[pos].sum()
        return losses

    def get_bboxes(self, rois: torch.Tensor, cls_score: torch.Tensor, bbox_pred: torch.Tensor,
                   img_shape: Sequence[int], scale_factor: Any, rescale: bool,
                   cfg: Mapping) -> tuple[torch.Tensor, torch.Tensor]:
        cls_score, bbox_pred = cls_score.float(), bbox_pred.float()
        scores = F.softmax(cls_score, dim=-1)
        bboxes = self.bbox_coder.decode(rois[..., 1:], bbox_pred, max_shape=img_shape)
        if rescale and bboxes.size(0) > 0:
            scale = bboxes.new_tensor(scale_factor)
            bboxes = (bboxes.view(bboxes.size(0), -1, 4) / scale).view(bboxes.size()[0], -1)
        return multiclass_nms(bboxes, scores, cfg["score_thr"], cfg["nms"], cfg["max_per_img"])

"""mmdet 2.28.2's ``RPNHead``: objectness and box deltas per anchor on every FPN level; its
training targets (assign, sample) and losses; its proposals (top ``nms_pre`` per level,
decoded, NMS per level, ``max_per_img`` best)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule
from ocr_ds.models.common.roi_ops import batched_nms
from ocr_ds.models.textdet.maskrcnn.assign_sample import build_assigner, build_sampler
from ocr_ds.models.textdet.maskrcnn.bbox_ops import images_to_levels, unmap


class RPNHead(BaseModule):
    """Args as mmdet's: ``in_channels``, ``feat_channels``, ``anchor_generator``,
    ``bbox_coder``, ``loss_cls`` (sigmoid CE), ``loss_bbox``, ``train_cfg``/``test_cfg``
    (``model.train_cfg.rpn`` / ``model.test_cfg.rpn``, set by the detector)."""

    def __init__(self, in_channels: int, feat_channels: int = 256,
                 anchor_generator: Mapping | None = None, bbox_coder: Mapping | None = None,
                 loss_cls: Mapping | None = None, loss_bbox: Mapping | None = None,
                 reg_decoded_bbox: bool = False, num_convs: int = 1,
                 train_cfg: Mapping | None = None, test_cfg: Mapping | None = None,
                 init_cfg: Any = dict(type="Normal", layer="Conv2d", std=0.01)):
        super().__init__(init_cfg)
        key = "model.rpn_head"
        if num_convs != 1 or reg_decoded_bbox:
            raise UserError(f"{key}: ocr_ds's RPNHead has num_convs=1, reg_decoded_bbox=False")
        loss_cls = dict(loss_cls or dict(type="CrossEntropyLoss", use_sigmoid=True))
        if not loss_cls.get("use_sigmoid", False):
            raise UserError(f"{key}.loss_cls.use_sigmoid: ocr_ds's RPNHead expects True "
                            f"(got {loss_cls.get('use_sigmoid')!r})")
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.num_classes = 1
        self.cls_out_channels = 1
        build = registry.build
        self.bbox_coder = build(registry.COMPONENTS, bbox_coder or dict(
            type="DeltaXYWHBBoxCoder"), f"{key}.bbox_coder")
        self.loss_cls = build(registry.COMPONENTS, loss_cls, f"{key}.loss_cls")
        self.loss_bbox = build(registry.COMPONENTS, loss_bbox or dict(
            type="SmoothL1Loss", beta=1.0 / 9.0), f"{key}.loss_bbox")
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if train_cfg:
            self.assigner = build_assigner(train_cfg["assigner"], "model.train_cfg.rpn.assigner")
            self.sampler = build_sampler(train_cfg["sampler"], "model.train_cfg.rpn.sampler")
        self.prior_generator = build(registry.COMPONENTS, anchor_generator or dict(
            type="AnchorGenerator", scales=[8, 16, 32], ratios=[0.5, 1.0, 2.0],
            strides=[4, 8, 16, 32, 64]), f"{key}.anchor_generator")
        self.num_base_priors = self.prior_generator.num_base_priors[0]
        self.rpn_conv = nn.Conv2d(in_channels, feat_channels, 3, padding=1)
        self.rpn_cls = nn.Conv2d(feat_channels, self.num_base_priors * self.cls_out_channels, 1)
        self.rpn_reg = nn.Conv2d(feat_channels, self.num_base_priors * 4, 1)

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[list, list]:
        scores, deltas = [], []
        for x in feats:
            x = F.relu(self.rpn_conv(x), inplace=False)
            scores.append(self.rpn_cls(x))
            deltas.append(self.rpn_reg(x))
        return scores, deltas

    # -- training

    def _targets_single(self, anchors: torch.Tensor, valid: torch.Tensor,
                        gt_bboxes: torch.Tensor, gt_ignore: torch.Tensor | None,
                        img_shape: Sequence[int]) -> tuple[torch.Tensor, ...] | None:
        # allowed_border < 0: every valid anchor takes part, inside the image or not
        border = self.train_cfg.get("allowed_border", -1)
        inside = valid
        if border >= 0:
            h, w = img_shape[:2]
            inside = valid & (anchors[:, 0] >= -border) & (anchors[:, 1] >= -border) & \
                (anchors[:, 2] < w + border) & (anchors[:, 3] < h + border)
        if not inside.any():
            return None
        inner = anchors[inside, :]
        assign = self.assigner.assign(inner, gt_bboxes, gt_ignore, None)
        res = self.sampler.sample(assign, inner, gt_bboxes)
        n = inner.shape[0]
        targets = torch.zeros_like(inner)
        weights = torch.zeros_like(inner)
        labels = inner.new_full((n,), self.num_classes, dtype=torch.long)
        label_weights = inner.new_zeros(n, dtype=torch.float)
        if len(res.pos_inds) > 0:
            targets[res.pos_inds, :] = self.bbox_coder.encode(res.pos_bboxes, res.pos_gt_bboxes)
            weights[res.pos_inds, :] = 1.0
            labels[res.pos_inds] = 0
            pos_weight = self.train_cfg.get("pos_weight", -1)
            label_weights[res.pos_inds] = 1.0 if pos_weight <= 0 else pos_weight
        if len(res.neg_inds) > 0:
            label_weights[res.neg_inds] = 1.0
        total = anchors.size(0)
        return (unmap(labels, total, inside, fill=self.num_classes),
                unmap(label_weights, total, inside), unmap(targets, total, inside),
                unmap(weights, total, inside), res.pos_inds, res.neg_inds)

    def loss(self, cls_scores: list[torch.Tensor], bbox_preds: list[torch.Tensor],
             gt_bboxes: list[torch.Tensor], img_metas: list[Mapping],
             gt_bboxes_ignore: list | None = None) -> dict[str, list[torch.Tensor]]:
        # in float32 whatever the model's dtype (mmdet's force_fp32): half-precision anchor
        # coordinates would be off by pixels
        cls_scores = [s.float() for s in cls_scores]
        bbox_preds = [p.float() for p in bbox_preds]
        sizes = [f.size()[-2:] for f in cls_scores]
        device = cls_scores[0].device
        anchors = self.prior_generator.grid_priors(sizes, device=device)
        per_level = [a.size(0) for a in anchors]
        flat_anchors = torch.cat(anchors)
        ignores = gt_bboxes_ignore or [None] * len(img_metas)
        results = []
        for i, meta in enumerate(img_metas):
            valid = torch.cat(self.prior_generator.valid_flags(sizes, meta["pad_shape"], device))
            results.append(self._targets_single(flat_anchors, valid, gt_bboxes[i], ignores[i],
                                                meta["img_shape"]))
        if any(r is None for r in results):
            raise UserError("data.train.pipeline: an image has no anchor inside it")
        labels, label_w, targets, target_w, pos, neg = zip(*results)
        num_total = sum(max(p.numel(), 1) for p in pos) + sum(max(n.numel(), 1) for n in neg)
        labels, label_w, targets, target_w = (images_to_levels(list(t), per_level)
                                              for t in (labels, label_w, targets, target_w))
        losses_cls, losses_bbox = [], []
        for lvl, (score, pred) in enumerate(zip(cls_scores, bbox_preds)):
            score = score.permute(0, 2, 3, 1).reshape(-1, self.cls_out_channels)
            losses_cls.append(self.loss_cls(score, labels[lvl].reshape(-1),
                                            label_w[lvl].reshape(-1), avg_factor=num_total))
            pred = pred.permute(0, 2, 3, 1).reshape(-1, 4)
            losses_bbox.append(self.loss_bbox(pred, targets[lvl].reshape(-1, 4),
                                              target_w[lvl].reshape(-1, 4),
                                              avg_factor=num_total))
        return dict(loss_rpn_cls=losses_cls, loss_rpn_bbox=losses_bbox)

    # -- proposals

    def get_bboxes(self, cls_scores: list[torch.Tensor], bbox_preds: list[torch.Tensor],
                   img_metas: list[Mapping], cfg: Mapping | None = None) -> list[torch.Tensor]:
        """Proposals ``(K, 5)`` (box, score) per image; ``cfg`` defaults to ``test_cfg``."""
        cfg = self.test_cfg if cfg is None else cfg
        cls_scores = [s.float() for s in cls_scores]
        bbox_preds = [p.float() for p in bbox_preds]
        sizes = [s.shape[-2:] for s in cls_scores]
        priors = self.prior_generator.grid_priors(sizes, dtype=cls_scores[0].dtype,
                                                  device=cls_scores[0].device)
        return [self._bboxes_single([s[i].detach() for s in cls_scores],
                                    [p[i].detach() for p in bbox_preds], priors, meta, cfg)
                for i, meta in enumerate(img_metas)]

    def _bboxes_single(self, scores_l: list[torch.Tensor], preds_l: list[torch.Tensor],
                       priors: list[torch.Tensor], meta: Mapping, cfg: Mapping) -> torch.Tensor:
        nms_pre = cfg.get("nms_pre", -1)
        all_scores, all_preds, all_anchors, ids = [], [], [], []
        for lvl, (score, pred) in enumerate(zip(scores_l, preds_l)):
            score = score.permute(1, 2, 0).reshape(-1).sigmoid()
            pred = pred.permute(1, 2, 0).reshape(-1, 4)
            anchors = priors[lvl]
            if 0 < nms_pre < score.shape[0]:
                ranked, rank = score.sort(descending=True)
                top = rank[:nms_pre]
                score, pred, anchors = ranked[:nms_pre], pred[top, :], anchors[top, :]
            all_scores.append(score)
            all_preds.append(pred)
            all_anchors.append(anchors)
            ids.append(score.new_full((score.size(0),), lvl, dtype=torch.long))
        scores = torch.cat(all_scores)
        proposals = self.bbox_coder.decode(torch.cat(all_anchors), torch.cat(all_preds),
                                           max_shape=meta["img_shape"])
        ids = torch.cat(ids)
        min_size = cfg.get("min_bbox_size", 0)
        if min_size >= 0:
            w = proposals[:, 2] - proposals[:, 0]
            h = proposals[:, 3] - proposals[:, 1]
            keep = (w > min_size) & (h > min_size)
            if not keep.all():
                proposals, scores, ids = proposals[keep], scores[keep], ids[keep]
        if proposals.numel() == 0:
            return proposals.new_zeros(0, 5)
        dets, _ = batched_nms(proposals, scores, ids, cfg["nms"])
        return dets[:cfg["max_per_img"]]

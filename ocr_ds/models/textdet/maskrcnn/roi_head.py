"""mmdet 2.28.2's ``StandardRoIHead`` (box and mask branches; its ``SingleRoIExtractor`` is
:mod:`ocr_ds.models.common.roi_extractor`).

Training: assign and sample each image's proposals (plus its ground truths), pool 7x7 box
features and 14x14 mask features (positives only) by RoIAlign from the FPN level that suits
each RoI's size, and return the box head's and mask head's losses. Testing: boxes from the
proposals, per-class NMS, then the masks of the kept boxes.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, call_weightless
from ocr_ds.models.common.roi_extractor import bbox2roi
from ocr_ds.models.textdet.maskrcnn.assign_sample import build_assigner, build_sampler


class StandardRoIHead(BaseModule):
    """Args as mmdet's: ``bbox_roi_extractor``, ``bbox_head``, ``mask_roi_extractor``,
    ``mask_head``; ``train_cfg``/``test_cfg`` are ``model.train_cfg.rcnn`` /
    ``model.test_cfg.rcnn`` (set by the detector)."""

    def __init__(self, bbox_roi_extractor: Mapping, bbox_head: Mapping,
                 mask_roi_extractor: Mapping | None = None, mask_head: Mapping | None = None,
                 shared_head: Any = None, train_cfg: Mapping | None = None,
                 test_cfg: Mapping | None = None, pretrained: Any = None, init_cfg: Any = None):
        super().__init__(init_cfg)
        key = "model.roi_head"
        if shared_head is not None or mask_head is None or mask_roi_extractor is None:
            raise UserError(f"{key}: ocr_ds's StandardRoIHead needs mask_roi_extractor and "
                            "mask_head, and takes no shared_head")
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.bbox_roi_extractor = registry.build(registry.COMPONENTS, bbox_roi_extractor,
                                                 f"{key}.bbox_roi_extractor")
        self.bbox_head = registry.build(registry.COMPONENTS, bbox_head, f"{key}.bbox_head")
        self.mask_roi_extractor = registry.build(registry.COMPONENTS, mask_roi_extractor,
                                                 f"{key}.mask_roi_extractor")
        self.mask_head = registry.build(registry.COMPONENTS, mask_head, f"{key}.mask_head")
        if train_cfg:
            self.bbox_assigner = build_assigner(train_cfg["assigner"],
                                                "model.train_cfg.rcnn.assigner")
            self.bbox_sampler = build_sampler(train_cfg["sampler"],
                                              "model.train_cfg.rcnn.sampler", context=self)

    def _bbox_forward(self, x: Sequence[torch.Tensor], rois: torch.Tensor) -> dict:
        feats = self.bbox_roi_extractor(x[:self.bbox_roi_extractor.num_inputs], rois)
        cls_score, bbox_pred = self.bbox_head(feats)
        return dict(cls_score=cls_score, bbox_pred=bbox_pred, bbox_feats=feats)

    def _mask_forward(self, x: Sequence[torch.Tensor], rois: torch.Tensor) -> torch.Tensor:
        return self.mask_head(self.mask_roi_extractor(
            x[:self.mask_roi_extractor.num_inputs], rois))

    def forward_train(self, x: Sequence[torch.Tensor], proposals: list[torch.Tensor],
                      gt_bboxes: list[torch.Tensor], gt_labels: list[torch.Tensor],
                      gt_masks: list[Any], gt_bboxes_ignore: list | None = None
                      ) -> dict[str, torch.Tensor]:
        ignores = gt_bboxes_ignore or [None] * len(proposals)
        results = []
        for i in range(len(proposals)):
            assign = self.bbox_assigner.assign(proposals[i], gt_bboxes[i], ignores[i],
                                               gt_labels[i])
            results.append(self.bbox_sampler.sample(
                assign, proposals[i], gt_bboxes[i], gt_labels[i],
                feats=[lvl[i][None] for lvl in x]))
        losses = {}
        rois = bbox2roi([r.bboxes for r in results])
        bbox = self._bbox_forward(x, rois)
        targets = self.bbox_head.get_targets(results, self.train_cfg)
        losses.update(self.bbox_head.loss(bbox["cls_score"], bbox["bbox_pred"], rois, *targets))
        mask_pred = self._mask_forward(x, bbox2roi([r.pos_bboxes for r in results]))
        mask_targets = self.mask_head.get_targets(results, gt_masks, self.train_cfg)
        pos_labels = torch.cat([r.pos_gt_labels for r in results])
        losses.update(self.mask_head.loss(mask_pred, mask_targets, pos_labels))
        return losses

    def simple_test(self, x: Sequence[torch.Tensor], proposals: list[torch.Tensor],
                    img_metas: list[Mapping], rescale: bool = False) -> list[tuple]:
        """Per image ``(bbox_results, segm_results)``: per class, ``(K, 5)`` boxes + scores
        (numpy) and their bool masks, as mmdet's ``bbox2result`` / ``get_seg_masks``."""
        cfg = self.test_cfg
        n_cls = self.bbox_head.num_classes
        rois = bbox2roi(proposals)
        det_bboxes, det_labels = [], []
        if rois.shape[0] == 0:
            # mmdet runs no box head here; it runs on nothing so that every rank runs the same
            # modules (DeepSpeed ZeRO-3), and what it returns is not used
            self._bbox_forward(x, rois)
            det_bboxes = [rois.new_zeros(0, 5)] * len(proposals)
            det_labels = [rois.new_zeros((0,), dtype=torch.long)] * len(proposals)
        else:
            bbox = self._bbox_forward(x, rois)
            counts = tuple(len(p) for p in proposals)
            for i, (r, s, d) in enumerate(zip(rois.split(counts, 0),
                                              bbox["cls_score"].split(counts, 0),
                                              bbox["bbox_pred"].split(counts, 0))):
                if r.shape[0] == 0:
                    det_bboxes.append(r.new_zeros(0, 5))
                    det_labels.append(r.new_zeros((0,), dtype=torch.long))
                    continue
                b, lab = self.bbox_head.get_bboxes(r, s, d, img_metas[i]["img_shape"],
                                                   img_metas[i]["scale_factor"], rescale, cfg)
                det_bboxes.append(b)
                det_labels.append(lab)
        bbox_results = [[b[lab == c, :].detach().cpu().numpy() for c in range(n_cls)]
                        for b, lab in zip(det_bboxes, det_labels)]
        segm_results = [[[] for _ in range(self.mask_head.num_classes)]
                        for _ in det_bboxes]
        if all(b.shape[0] == 0 for b in det_bboxes):
            # nothing detected: mmdet runs no mask head; likewise on nothing, unused
            self._mask_forward(x, rois.new_zeros(0, 5))
        else:
            scales = [torch.as_tensor(np.asarray(m["scale_factor"], dtype=np.float32))
                      for m in img_metas]
            boxes = [b[:, :4] * scales[i].to(b) if rescale else b[:, :4]
                     for i, b in enumerate(det_bboxes)]
            mask_pred = self._mask_forward(x, bbox2roi(boxes))
            preds = mask_pred.split([len(b) for b in det_bboxes], 0)
            for i, b in enumerate(det_bboxes):
                if b.shape[0] > 0:
                    segm_results[i] = self.mask_head.get_seg_masks(
                        preds[i], boxes[i], det_labels[i], cfg["mask_thr_binary"],
                        img_metas[i]["ori_shape"], scales[i], rescale)
        return list(zip(bbox_results, segm_results))


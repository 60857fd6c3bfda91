"""MMOCR 0.6.3's ``OCRMaskRCNN``: mmdet's two-stage Mask R-CNN (He et al., 2017) whose
instance masks become text boundaries.

``backbone -> neck (FPN) -> rpn_head`` (proposals) ``-> roi_head`` (boxes, masks). Training
returns ``loss_rpn_cls``/``loss_rpn_bbox`` (lists over FPN levels), ``loss_cls``, ``acc``,
``loss_bbox``, ``loss_mask``. Testing returns, per image, ``{'boundary_result': [...]}``: each
class-0 detection's mask as a polygon (``text_repr_type='poly'``: its outer contour; 'quad':
its minimum-area rectangle) with the box score appended, in original image coordinates.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ShowResultMixin
from ocr_ds.models.textdet.postprocess import check_repr_type, points2boundary


def seg2boundary(seg: np.ndarray, text_repr_type: str, score: float | None) -> list | None:
    """MMOCR's ``seg2boundary``: the boundary of a mask's pixels, or None when it has none."""
    ys, xs = np.where(seg)
    points = np.concatenate([xs, ys]).reshape(2, -1).transpose()
    return points2boundary(points, text_repr_type, score) if len(points) else None


class OCRMaskRCNN(ShowResultMixin, BaseModule):
    """Args as MMOCR's: ``backbone``, ``rpn_head``, ``roi_head``, ``train_cfg`` (``rpn``,
    ``rpn_proposal``, ``rcnn``), ``test_cfg`` (``rpn``, ``rcnn``), ``neck``, ``pretrained``,
    ``text_repr_type`` ('quad' or 'poly'), ``show_score`` (unused), ``init_cfg``."""

    def __init__(self, backbone: Mapping, rpn_head: Mapping, roi_head: Mapping,
                 train_cfg: Mapping | None, test_cfg: Mapping, neck: Mapping | None = None,
                 pretrained: str | None = None, text_repr_type: str = "quad",
                 show_score: bool = False, init_cfg: Any = None):
        super().__init__(init_cfg)
        self.text_repr_type = check_repr_type(text_repr_type, "model")
        backbone = dict(backbone)
        if pretrained is not None:
            if backbone.get("init_cfg") is not None:
                raise UserError("model.pretrained: give it or model.backbone.init_cfg, not both")
            backbone["init_cfg"] = dict(type="Pretrained", checkpoint=pretrained)
        if neck is None:
            raise UserError("model.neck: OCRMaskRCNN needs an FPN neck (got None)")
        self.backbone = registry.build(registry.COMPONENTS, backbone, "model.backbone")
        self.neck = registry.build(registry.COMPONENTS, neck, "model.neck")
        train_cfg = dict(train_cfg or {})
        test_cfg = dict(test_cfg or {})
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        rpn = dict(rpn_head, train_cfg=train_cfg.get("rpn"), test_cfg=test_cfg.get("rpn"))
        self.rpn_head = registry.build(registry.COMPONENTS, rpn, "model.rpn_head")
        roi = dict(roi_head, train_cfg=train_cfg.get("rcnn"), test_cfg=test_cfg.get("rcnn"))
        self.roi_head = registry.build(registry.COMPONENTS, roi, "model.roi_head")

    def extract_feat(self, img: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.neck(self.backbone(img)))

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True
                ) -> dict[str, Any] | list[dict]:
        img = batch["img"]
        metas = batch.get("img_metas") or [{} for _ in range(img.shape[0])]
        if return_loss:
            return self.forward_train(img, metas, batch)
        results = self.simple_test(img, metas, rescale=True)
        return [self.get_boundary(r) for r in results]

    def forward_train(self, img: torch.Tensor, metas: list[Mapping],
                      batch: Mapping[str, Any]) -> dict[str, Any]:
        missing = [k for k in ("gt_bboxes", "gt_labels", "gt_masks") if k not in batch]
        if missing:
            raise UserError(f"data.train.pipeline: the batch lacks {', '.join(missing)}; an "
                            "OCRMaskRCNN training pipeline needs LoadAnnotations(with_bbox=True,"
                            " with_mask=True) and Collect(keys=['img', 'gt_bboxes', "
                            "'gt_labels', 'gt_masks'])")
        dev = img.device
        gt_bboxes = [torch.as_tensor(np.asarray(b), dtype=torch.float32, device=dev).reshape(-1, 4)
                     for b in batch["gt_bboxes"]]
        gt_labels = [torch.as_tensor(np.asarray(lab), dtype=torch.long, device=dev).reshape(-1)
                     for lab in batch["gt_labels"]]
        gt_masks = [np.asarray(m) for m in batch["gt_masks"]]
        x = self.extract_feat(img)
        cls_scores, bbox_preds = self.rpn_head(x)
        losses = self.rpn_head.loss(cls_scores, bbox_preds, gt_bboxes, metas)
        proposal_cfg = self.train_cfg.get("rpn_proposal", self.test_cfg.get("rpn"))
        proposals = self.rpn_head.get_bboxes(cls_scores, bbox_preds, metas, cfg=proposal_cfg)
        losses.update(self.roi_head.forward_train(x, proposals, gt_bboxes, gt_labels, gt_masks))
        return losses

    def simple_test(self, img: torch.Tensor, metas: list[Mapping], rescale: bool = False
                    ) -> list[tuple]:
        """mmdet's ``TwoStageDetector.simple_test``: per image ``(bbox_results,
        segm_results)``."""
        x = self.extract_feat(img)
        proposals = self.rpn_head.get_bboxes(*self.rpn_head(x), metas)
        return self.roi_head.simple_test(x, proposals, metas, rescale=rescale)

    def get_boundary(self, result: tuple) -> dict[str, list]:
        """Class 0's masks as boundaries with their box scores (MMOCR's ``get_boundary``)."""
        bboxes, segms = result
        boundaries = []
        for i, seg in enumerate(segms[0]):
            boundary = seg2boundary(seg, self.text_repr_type, float(bboxes[0][i][-1]))
            if boundary is not None:
                boundaries.append(boundary)
        return dict(boundary_result=boundaries)

"""Which anchors/proposals train which ground truth: mmdet 2.28.2's ``MaxIoUAssigner`` and its
``RandomSampler`` (RPN) and ``OHEMSampler`` (RoI head).

``RandomSampler`` draws with ``torch.randperm`` from torch's global generator, as mmdet does,
so a run seeded like MMOCR's draws the same anchors. ``OHEMSampler`` keeps the proposals whose
classification loss (under ``torch.no_grad``) is highest; it runs the bbox head (on no RoIs)
also where it keeps every candidate, so that every rank runs the same modules (ZeRO-3).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.common.roi_extractor import bbox2roi
from ocr_ds.models.textdet.maskrcnn.bbox_ops import bbox_overlaps


class AssignResult:
    """``gt_inds``: 0 negative, -1 ignored, i > 0 the i-th ground truth; ``labels`` of each."""

    def __init__(self, num_gts: int, gt_inds: torch.Tensor, max_overlaps: torch.Tensor,
                 labels: torch.Tensor | None = None):
        self.num_gts = num_gts
        self.gt_inds = gt_inds
        self.max_overlaps = max_overlaps
        self.labels = labels

    def add_gt_(self, gt_labels: torch.Tensor) -> None:
        """The ground truths themselves become the first proposals, each assigned to itself."""
        self_inds = torch.arange(1, len(gt_labels) + 1, dtype=torch.long, device=gt_labels.device)
        self.gt_inds = torch.cat([self_inds, self.gt_inds])
        self.max_overlaps = torch.cat([self.max_overlaps.new_ones(len(gt_labels)),
                                       self.max_overlaps])
        if self.labels is not None:
            self.labels = torch.cat([gt_labels, self.labels])


class MaxIoUAssigner:
    """mmdet's ``MaxIoUAssigner`` (``gt_max_assign_all``; ``gpu_assign_thr`` is accepted and
    does nothing: it only moves big assignments off the GPU)."""

    def __init__(self, pos_iou_thr: float, neg_iou_thr: float | tuple, min_pos_iou: float = 0.0,
                 gt_max_assign_all: bool = True, ignore_iof_thr: float = -1,
                 ignore_wrt_candidates: bool = True, match_low_quality: bool = True,
                 gpu_assign_thr: int = -1, iou_calculator: Mapping | None = None):
        self.pos_iou_thr = pos_iou_thr
        self.neg_iou_thr = neg_iou_thr
        self.min_pos_iou = min_pos_iou
        self.gt_max_assign_all = gt_max_assign_all
        self.ignore_iof_thr = ignore_iof_thr
        self.ignore_wrt_candidates = ignore_wrt_candidates
        self.match_low_quality = match_low_quality

    def assign(self, bboxes: torch.Tensor, gt_bboxes: torch.Tensor,
               gt_bboxes_ignore: torch.Tensor | None = None,
               gt_labels: torch.Tensor | None = None) -> AssignResult:
        overlaps = bbox_overlaps(gt_bboxes, bboxes)
        if self.ignore_iof_thr > 0 and gt_bboxes_ignore is not None and \
                gt_bboxes_ignore.numel() > 0 and bboxes.numel() > 0:
            if self.ignore_wrt_candidates:
                ignore = bbox_overlaps(bboxes, gt_bboxes_ignore, mode="iof").max(dim=1)[0]
            else:
                ignore = bbox_overlaps(gt_bboxes_ignore, bboxes, mode="iof").max(dim=0)[0]
            overlaps[:, ignore > self.ignore_iof_thr] = -1
        return self.assign_wrt_overlaps(overlaps, gt_labels)

    def assign_wrt_overlaps(self, overlaps: torch.Tensor,
                            gt_labels: torch.Tensor | None = None) -> AssignResult:
        num_gts, num_bboxes = overlaps.size(0), overlaps.size(1)
        assigned = overlaps.new_full((num_bboxes,), -1, dtype=torch.long)
        if num_gts == 0 or num_bboxes == 0:
            max_overlaps = overlaps.new_zeros((num_bboxes,))
            if num_gts == 0:
                assigned[:] = 0
            labels = None if gt_labels is None else \
                overlaps.new_full((num_bboxes,), -1, dtype=torch.long)
            return AssignResult(num_gts, assigned, max_overlaps, labels=labels)
        max_overlaps, argmax = overlaps.max(dim=0)
        gt_max_overlaps, gt_argmax = overlaps.max(dim=1)
        if isinstance(self.neg_iou_thr, float):
            assigned[(max_overlaps >= 0) & (max_overlaps < self.neg_iou_thr)] = 0
        elif isinstance(self.neg_iou_thr, (tuple, list)):
            assigned[(max_overlaps >= self.neg_iou_thr[0])
                     & (max_overlaps < self.neg_iou_thr[1])] = 0
        pos = max_overlaps >= self.pos_iou_thr
        assigned[pos] = argmax[pos] + 1
        if self.match_low_quality:
            # each ground truth also takes its best-overlapping boxes (the low-quality matches)
            for i in range(num_gts):
                if gt_max_overlaps[i] >= self.min_pos_iou:
                    if self.gt_max_assign_all:
                        assigned[overlaps[i, :] == gt_max_overlaps[i]] = i + 1
                    else:
                        assigned[gt_argmax[i]] = i + 1
        labels = None
        if gt_labels is not None:
            labels = assigned.new_full((num_bboxes,), -1)
            pos_inds = torch.nonzero(assigned > 0, as_tuple=False).squeeze()
            if pos_inds.numel() > 0:
                labels[pos_inds] = gt_labels[assigned[pos_inds] - 1]
        return AssignResult(num_gts, assigned, max_overlaps, labels=labels)


class SamplingResult:
    """The sampled positives/negatives of one image and their targets."""

    def __init__(self, pos_inds: torch.Tensor, neg_inds: torch.Tensor, bboxes: torch.Tensor,
                 gt_bboxes: torch.Tensor, assign_result: AssignResult, gt_flags: torch.Tensor):
        self.pos_inds = pos_inds
        self.neg_inds = neg_inds
        self.pos_bboxes = bboxes[pos_inds]
        self.neg_bboxes = bboxes[neg_inds]
        self.pos_is_gt = gt_flags[pos_inds]
        self.num_gts = gt_bboxes.shape[0]
        self.pos_assigned_gt_inds = assign_result.gt_inds[pos_inds] - 1
        if gt_bboxes.numel() == 0:
            self.pos_gt_bboxes = torch.empty_like(gt_bboxes).view(-1, 4)
        else:
            self.pos_gt_bboxes = gt_bboxes.view(-1, 4)[self.pos_assigned_gt_inds.long(), :]
        self.pos_gt_labels = None if assign_result.labels is None \
            else assign_result.labels[pos_inds]

    @property
    def bboxes(self) -> torch.Tensor:
        return torch.cat([self.pos_bboxes, self.neg_bboxes])


class BaseSampler:
    """mmdet's sampling frame: ``num * pos_fraction`` positives at most, negatives fill up to
    ``num`` (at most ``neg_pos_ub`` per positive when that is >= 0)."""

    def __init__(self, num: int, pos_fraction: float, neg_pos_ub: float = -1,
                 add_gt_as_proposals: bool = True, **kwargs: Any):
        self.num = num
        self.pos_fraction = pos_fraction
        self.neg_pos_ub = neg_pos_ub
        self.add_gt_as_proposals = add_gt_as_proposals

    def _pick(self, inds: torch.Tensor, num: int, **kwargs: Any) -> torch.Tensor:
        raise NotImplementedError

    def _no_pick(self, **kwargs: Any) -> None:
        """Runs where every candidate is kept (no ``_pick``)."""

    def _candidates(self, assign_result: AssignResult, positive: bool) -> torch.Tensor:
        inds = torch.nonzero(assign_result.gt_inds > 0 if positive else
                             assign_result.gt_inds == 0, as_tuple=False)
        return inds.squeeze(1) if inds.numel() != 0 else inds

    def sample(self, assign_result: AssignResult, bboxes: torch.Tensor, gt_bboxes: torch.Tensor,
               gt_labels: torch.Tensor | None = None, **kwargs: Any) -> SamplingResult:
        if len(bboxes.shape) < 2:
            bboxes = bboxes[None, :]
        bboxes = bboxes[:, :4]
        gt_flags = bboxes.new_zeros((bboxes.shape[0],), dtype=torch.uint8)
        if self.add_gt_as_proposals and len(gt_bboxes) > 0:
            bboxes = torch.cat([gt_bboxes, bboxes], dim=0)
            assign_result.add_gt_(gt_labels)
            gt_flags = torch.cat([bboxes.new_ones(gt_bboxes.shape[0], dtype=torch.uint8),
                                  gt_flags])
        expected_pos = int(self.num * self.pos_fraction)
        pos = self._candidates(assign_result, True)
        if pos.numel() > expected_pos:
            pos = self._pick(pos, expected_pos, assign_result=assign_result, bboxes=bboxes,
                             positive=True, **kwargs)
        else:
            self._no_pick(**kwargs)
        pos = pos.unique()
        expected_neg = self.num - pos.numel()
        if self.neg_pos_ub >= 0:
            expected_neg = min(expected_neg, int(self.neg_pos_ub * max(1, pos.numel())))
        neg = self._candidates(assign_result, False)
        if len(neg) > expected_neg:
            neg = self._pick(neg, expected_neg, assign_result=assign_result, bboxes=bboxes,
                             positive=False, **kwargs)
        else:
            self._no_pick(**kwargs)
        neg = neg.unique()
        return SamplingResult(pos, neg, bboxes, gt_bboxes, assign_result, gt_flags)


class RandomSampler(BaseSampler):
    """Uniform draws (``torch.randperm`` on torch's global generator, as mmdet)."""

    def _pick(self, inds: torch.Tensor, num: int, **kwargs: Any) -> torch.Tensor:
        perm = torch.randperm(inds.numel())[:num].to(device=inds.device)
        return inds[perm]


class OHEMSampler(BaseSampler):
    """Online hard example mining: the ``num`` candidates of highest ``loss_key`` loss under
    the current bbox head (``context`` is the RoI head, giving ``_bbox_forward``)."""

    def __init__(self, num: int, pos_fraction: float, context: Any, neg_pos_ub: float = -1,
                 add_gt_as_proposals: bool = True, loss_key: str = "loss_cls", **kwargs: Any):
        super().__init__(num, pos_fraction, neg_pos_ub, add_gt_as_proposals)
        # the RoI head, not registered as a child module (it owns this sampler)
        self.__dict__["context"] = context
        self.loss_key = loss_key

    def _pick(self, inds: torch.Tensor, num: int, assign_result: AssignResult = None,
              bboxes: torch.Tensor = None, positive: bool = True, feats: Any = None,
              **kwargs: Any) -> torch.Tensor:
        head = self.context.bbox_head
        if positive:
            labels = assign_result.labels[inds]
        else:
            labels = assign_result.labels.new_empty(inds.size(0)).fill_(head.num_classes)
        with torch.no_grad():
            rois = bbox2roi([bboxes[inds]])
            cls_score = self.context._bbox_forward(feats, rois)["cls_score"]
            loss = head.loss(cls_score=cls_score, bbox_pred=None, rois=rois, labels=labels,
                             label_weights=cls_score.new_ones(cls_score.size(0)),
                             bbox_targets=None, bbox_weights=None,
                             reduction_override="none")[self.loss_key]
            _, top = loss.topk(num)
        return inds[top]

    def _no_pick(self, feats: Any = None, **kwargs: Any) -> None:
        """The bbox head on no RoIs, its output unused: mmdet's OHEM runs it only where it
        mines, but DeepSpeed ZeRO-3 needs every rank to run the same modules in the same
        order, whichever images have to be mined."""
        with torch.no_grad():
            self.context._bbox_forward(feats, feats[0].new_zeros((0, 5)))


def build_assigner(cfg: Mapping[str, Any], key: str) -> MaxIoUAssigner:
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    if kind != "MaxIoUAssigner":
        raise UserError(f"{key}.type: ocr_ds has 'MaxIoUAssigner' (got {kind!r})")
    return MaxIoUAssigner(**cfg)


def build_sampler(cfg: Mapping[str, Any], key: str, context: Any = None) -> BaseSampler:
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    if kind == "RandomSampler":
        return RandomSampler(**cfg)
    if kind == "OHEMSampler":
        if context is None:
            raise UserError(f"{key}.type: 'OHEMSampler' mines with the RoI head's bbox head; "
                            "the RPN has none (use 'RandomSampler')")
        return OHEMSampler(context=context, **cfg)
    raise UserError(f"{key}.type: expected 'RandomSampler' or 'OHEMSampler' (got {kind!r})")

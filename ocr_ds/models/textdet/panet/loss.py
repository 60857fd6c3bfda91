"""``PANLoss``: PANet's loss, as MMOCR 0.6.3 computes it.

``loss_text``: dice (on sigmoid logits) of the text map over every effective positive and the
``ohem_ratio`` times as many highest-scoring negatives; ``loss_kernel`` (x ``alpha``): dice of
the kernel map inside the labelled text; ``loss_aggregation`` and ``loss_discrimination``
(x ``beta``): the embedding of each text pixel is pulled to within ``delta_aggregation`` of
its kernel's mean embedding, and kernel means are pushed ``delta_discrimination`` apart.

Targets arrive as dense tensors at the input resolution: ``gt_kernels`` ``(N, K, H, W)`` with
instance labels (0 background, i for the i-th polygon; the first map is the full text, the
second its kernel) and ``gt_mask`` ``(N, H, W)`` (0 on ``###`` regions). MMOCR loops over the
instances one by one; here each image's instances are reduced with index sums, which changes
only the order of floating-point additions. Computed in fp32 whatever the prediction dtype.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from ocr_ds.errors import UserError
from ocr_ds.models.textdet.losses import fit_target


def dice_loss_with_logits(pred: torch.Tensor, target: torch.Tensor,
                          mask: torch.Tensor) -> torch.Tensor:
    """Per-sample ``1 - 2|P.T| / (|P|^2 + |T|^2)`` of sigmoid(pred) and target > 0.5 inside
    ``mask``, each sum smoothed by 1e-3."""
    smooth = 0.001
    n = pred.shape[0]
    pred = torch.sigmoid(pred).reshape(n, -1) * mask.reshape(n, -1)
    target = (target > 0.5).float().reshape(n, -1) * mask.reshape(n, -1)
    a = (pred * target).sum(1) + smooth
    b = (pred * pred).sum(1) + smooth
    c = (target * target).sum(1) + smooth
    return 1 - 2 * a / (b + c)


class PANLoss(nn.Module):
    """Args:
        alpha: Weight of the kernel loss. Defaults to 0.5.
        beta: Weight of the aggregation and discrimination losses. Defaults to 0.25.
        delta_aggregation: Pull margin. Defaults to 0.5.
        delta_discrimination: Push margin. Defaults to 3.
        ohem_ratio: Negatives per positive for the text loss. Defaults to 3.
        reduction: 'mean' or 'sum' over the batch. Defaults to 'mean'.
        speedup_bbox_thr: When > 0 and an image has more instances, the embedding losses use
            this many of them, drawn with numpy's global generator (as MMOCR). Defaults to -1.
    """

    def __init__(self, alpha: float = 0.5, beta: float = 0.25, delta_aggregation: float = 0.5,
                 delta_discrimination: float = 3, ohem_ratio: float = 3,
                 reduction: str = "mean", speedup_bbox_thr: int = -1):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise UserError(f"model.bbox_head.loss.reduction: expected 'mean' or 'sum' "
                            f"(got {reduction!r})")
        self.alpha = alpha
        self.beta = beta
        self.delta_aggregation = delta_aggregation
        self.delta_discrimination = delta_discrimination
        self.ohem_ratio = ohem_ratio
        self.reduction = reduction
        self.speedup_bbox_thr = speedup_bbox_thr

    def forward(self, preds: torch.Tensor, downsample_ratio: float, gt_kernels: torch.Tensor,
                gt_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """``preds``: ``(N, 6, h, w)``: text logits, kernel logits, 4-d embedding."""
        preds = preds.float()
        if preds.shape[1] != 6:
            raise ValueError(f"PANLoss: expected 6 predicted maps, got {preds.shape[1]}")
        size = preds.shape[2:]
        kernels = fit_target(gt_kernels, size, downsample_ratio)
        mask = fit_target(gt_mask, size, downsample_ratio)
        if kernels.dim() != 4 or kernels.shape[1] < 2:
            raise ValueError(f"PANLoss: gt_kernels must hold the text map and its kernel, "
                             f"got shape {tuple(gt_kernels.shape)}")
        gt_texts, gt_kernel = kernels[:, 0], kernels[:, 1]
        pred_texts, pred_kernels = preds[:, 0], preds[:, 1]
        loss_aggr, loss_discr = self.aggregation_discrimination_loss(gt_texts, gt_kernel,
                                                                     preds[:, 2:])
        with torch.no_grad():
            sampled = torch.stack([self.ohem_img(s, t, m) for s, t, m in
                                   zip(pred_texts.detach(), gt_texts, mask)])
        loss_text = dice_loss_with_logits(pred_texts, gt_texts, sampled.float())
        kernel_mask = (gt_texts > 0.5).float() * mask
        loss_kernel = dice_loss_with_logits(pred_kernels, gt_kernel, kernel_mask)
        reduce = torch.mean if self.reduction == "mean" else torch.sum
        return dict(loss_text=reduce(loss_text),
                    loss_kernel=self.alpha * reduce(loss_kernel),
                    loss_aggregation=self.beta * reduce(loss_aggr),
                    loss_discrimination=self.beta * reduce(loss_discr))

    def ohem_img(self, text_score: torch.Tensor, gt_text: torch.Tensor,
                 gt_mask: torch.Tensor) -> torch.Tensor:
        """Every effective positive plus the ``ohem_ratio`` x as many top-scoring negatives
        (all of ``gt_mask`` when there are no positives or no negatives)."""
        pos = gt_text > 0.5
        pos_num = int(pos.sum()) - int((pos & (gt_mask <= 0.5)).sum())
        neg = ~pos
        neg_num = int(min(pos_num * self.ohem_ratio, int(neg.sum())))
        if pos_num == 0 or neg_num == 0:
            return gt_mask.bool()
        threshold = torch.topk(text_score[neg], neg_num).values[-1]
        return ((text_score >= threshold) | pos) & (gt_mask > 0.5)

    def _instances(self, text_num: int) -> np.ndarray:
        select = self.speedup_bbox_thr
        if 0 < select < text_num:
            return np.random.choice(text_num, select, replace=False) + 1
        return np.arange(1, text_num + 1)

    def aggregation_discrimination_loss(self, gt_texts: torch.Tensor, gt_kernels: torch.Tensor,
                                        inst_embeds: torch.Tensor
                                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image aggregation and discrimination losses, ``(N,)`` each, before reduction."""
        n = gt_texts.shape[0]
        texts = gt_texts.reshape(n, -1)
        kernels = gt_kernels.reshape(n, -1)
        embeds = inst_embeds.reshape(n, inst_embeds.shape[1], -1)
        aggrs, discrs = [], []
        for text, kernel, embed in zip(texts, kernels, embeds):
            aggr, discr = self._image_losses(text, kernel, embed)
            aggrs.append(aggr)
            discrs.append(discr)
        return torch.stack(aggrs), torch.stack(discrs)

    def _image_losses(self, text: torch.Tensor, kernel: torch.Tensor,
                      embed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        zero = torch.zeros((), device=text.device)
        text_num = int(text.max().item())
        inds = self._instances(text_num)
        if text_num < 1 or len(inds) == 0:
            return zero, zero
        # slot of each considered instance label, -1 for every other label
        top = int(max(text_num, kernel.max().item())) + 1
        slot = torch.full((top,), -1, dtype=torch.long, device=text.device)
        slot[torch.as_tensor(inds, device=text.device)] = torch.arange(len(inds),
                                                                       device=text.device)
        t_slot = slot[text.long().clamp(0, top - 1)]
        k_slot = slot[kernel.long().clamp(0, top - 1)]
        t_count = torch.bincount(t_slot[t_slot >= 0], minlength=len(inds))
        k_count = torch.bincount(k_slot[k_slot >= 0], minlength=len(inds))
        valid = (t_count > 0) & (k_count > 0)
        num_inst = int(valid.sum())
        if num_inst == 0:
            return zero, zero
        # G(K_i): the mean embedding of each kernel
        k_sel = k_slot >= 0
        sums = embed.new_zeros(len(inds), embed.shape[0]).index_add(
            0, k_slot[k_sel], embed[:, k_sel].t())
        avgs = sums / k_count.clamp(min=1).unsqueeze(1).to(sums.dtype)
        # D(p, K_i) of each text pixel, averaged per instance, then over instances
        t_sel = (t_slot >= 0) & valid[t_slot.clamp(min=0)]
        idx = t_slot[t_sel]
        distance = (embed[:, t_sel] - avgs[idx].t()).norm(2, dim=0) - self.delta_aggregation
        per_pixel = torch.log(distance.clamp(min=0).pow(2) + 1)
        per_inst = embed.new_zeros(len(inds)).index_add(0, idx, per_pixel)
        aggr = (per_inst[valid] / t_count[valid].to(per_inst.dtype)).mean()
        if num_inst < 2:
            return aggr, zero
        # D(K_i, K_j) of each pair of kernels
        kept = avgs[valid]
        i, j = torch.triu_indices(num_inst, num_inst, offset=1, device=text.device)
        dist_ij = self.delta_discrimination - (kept[i] - kept[j]).norm(2, dim=1)
        discr = torch.log(dist_ij.clamp(min=0).pow(2) + 1).sum() / (num_inst * (num_inst - 1))
        return aggr, discr

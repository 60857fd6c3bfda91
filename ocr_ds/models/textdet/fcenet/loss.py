"""``FCELoss``: FCENet's loss, summed over the pyramid levels.

Per level, on ``FCENetTargets``'s maps (channels: text region, text center, effective mask,
then 2k+1 real and 2k+1 imaginary Fourier coefficients):

* ``loss_text``: cross-entropy on the text region with OHEM (negatives at most
  ``ohem_ratio`` x positives, the hardest; 100 when there is no positive);
* ``loss_center``: cross-entropy on the text center, inside text (positives) plus half of
  it outside;
* ``loss_reg_x`` / ``loss_reg_y``: smooth-L1 between the polygons (``num_sample`` points)
  that predicted and target coefficients reconstruct, on text pixels, weighted by
  (region + center) / 2.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ocr_ds.errors import UserError, bad_value


class FCELoss(nn.Module):
    """Args:
        fourier_degree: k (set by ``FCEHead``).
        num_sample: Points of the polygons compared by the regression loss.
        ohem_ratio: Negatives per positive kept by OHEM. Defaults to 3.
    """

    def __init__(self, fourier_degree: int, num_sample: int, ohem_ratio: float = 3.0):
        super().__init__()
        if not isinstance(num_sample, int) or num_sample < 1:
            raise bad_value("model.bbox_head.loss.num_sample", num_sample, "an integer >= 1")
        self.fourier_degree = fourier_degree
        self.num_sample = num_sample
        self.ohem_ratio = ohem_ratio

    def forward(self, preds: Sequence[Sequence[torch.Tensor]], downsample_ratio: float,
                p3_maps: torch.Tensor, p4_maps: torch.Tensor, p5_maps: torch.Tensor
                ) -> dict[str, torch.Tensor]:
        channels = 4 * self.fourier_degree + 5
        if p3_maps.shape[1] != channels:
            raise UserError(f"model.bbox_head.fourier_degree: {self.fourier_degree} needs "
                            f"{channels} target channels, FCENetTargets made "
                            f"{p3_maps.shape[1]} (give both the same fourier_degree)")
        device = preds[0][0].device
        gts = [m.to(device).float() for m in (p3_maps, p4_maps, p5_maps)]
        totals = [torch.tensor(0., device=device) for _ in range(4)]
        for pred, gt in zip(preds, gts):
            for i, value in enumerate(self.forward_single(pred, gt)):
                totals[i] = totals[i] + value
        return dict(loss_text=totals[0], loss_center=totals[1], loss_reg_x=totals[2],
                    loss_reg_y=totals[3])

    def forward_single(self, pred: Sequence[torch.Tensor], gt: torch.Tensor
                       ) -> tuple[torch.Tensor, ...]:
        cls_pred = pred[0].permute(0, 2, 3, 1).contiguous()
        reg_pred = pred[1].permute(0, 2, 3, 1).contiguous()
        gt = gt.permute(0, 2, 3, 1).contiguous()
        k = 2 * self.fourier_degree + 1
        tr_pred = cls_pred[:, :, :, :2].view(-1, 2)
        tcl_pred = cls_pred[:, :, :, 2:].view(-1, 2)
        x_pred = reg_pred[:, :, :, 0:k].view(-1, k)
        y_pred = reg_pred[:, :, :, k:2 * k].view(-1, k)
        tr_mask = gt[:, :, :, :1].view(-1)
        tcl_mask = gt[:, :, :, 1:2].view(-1)
        train_mask = gt[:, :, :, 2:3].view(-1)
        x_map = gt[:, :, :, 3:3 + k].view(-1, k)
        y_map = gt[:, :, :, 3 + k:].view(-1, k)

        tr_train_mask = train_mask * tr_mask
        loss_tr = self.ohem(tr_pred, tr_mask.long(), train_mask.long())
        # A level without text: MMOCR's constant 0, written as 0 x the predictions so that
        # every rank's graph reaches every output (ZeRO-3 gathers a layer's weights again
        # for each output its backward passes through, and ranks must agree). Same values,
        # same (zero) gradients.
        loss_tcl = tcl_pred.sum() * 0
        loss_reg_x, loss_reg_y = x_pred.sum() * 0, y_pred.sum() * 0
        pos = tr_train_mask.bool()
        if tr_train_mask.sum().item() > 0:
            neg = (1 - tr_train_mask).bool()
            loss_tcl = (F.cross_entropy(tcl_pred[pos], tcl_mask[pos].long())
                        + 0.5 * F.cross_entropy(tcl_pred[neg], tcl_mask[neg].long()))
            weight = ((tr_mask[pos].float() + tcl_mask[pos].float()) / 2).contiguous()
            weight = weight.view(-1, 1)
            ft_x, ft_y = self.fourier2poly(x_map, y_map)
            ft_x_pre, ft_y_pre = self.fourier2poly(x_pred, y_pred)
            loss_reg_x = torch.mean(weight * F.smooth_l1_loss(ft_x_pre[pos], ft_x[pos],
                                                              reduction="none"))
            loss_reg_y = torch.mean(weight * F.smooth_l1_loss(ft_y_pre[pos], ft_y[pos],
                                                              reduction="none"))
        return loss_tr, loss_tcl, loss_reg_x, loss_reg_y

    def ohem(self, predict: torch.Tensor, target: torch.Tensor, train_mask: torch.Tensor
             ) -> torch.Tensor:
        pos = (target * train_mask).bool()
        neg = ((1 - target) * train_mask).bool()
        n_pos = pos.float().sum()
        loss_neg = F.cross_entropy(predict[neg], target[neg], reduction="none")
        if n_pos.item() > 0:
            loss_pos = F.cross_entropy(predict[pos], target[pos], reduction="sum")
            n_neg = min(int(neg.float().sum().item()), int(self.ohem_ratio * n_pos.float()))
        else:
            loss_pos = torch.tensor(0., device=train_mask.device)
            n_neg = 100
        if len(loss_neg) > n_neg:
            loss_neg, _ = torch.topk(loss_neg, n_neg)
        return (loss_pos + loss_neg.sum()) / (n_pos + n_neg).float()

    def fourier2poly(self, real_maps: torch.Tensor, imag_maps: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(M, 2k+1)`` real and imaginary coefficients -> ``(M, num_sample)`` x and y of
        the polygon they describe."""
        device = real_maps.device
        k_vect = torch.arange(-self.fourier_degree, self.fourier_degree + 1,
                              dtype=torch.float, device=device).view(-1, 1)
        i_vect = torch.arange(0, self.num_sample, dtype=torch.float, device=device).view(1, -1)
        transform = 2 * math.pi / self.num_sample * torch.mm(k_vect, i_vect)
        cos, sin = torch.cos(transform), torch.sin(transform)
        x = torch.einsum("ak, kn-> an", real_maps, cos) - torch.einsum("ak, kn-> an",
                                                                       imag_maps, sin)
        y = torch.einsum("ak, kn-> an", real_maps, sin) + torch.einsum("ak, kn-> an",
                                                                       imag_maps, cos)
        return x, y

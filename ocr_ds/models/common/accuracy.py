"""mmdet's ``accuracy`` (top-1, in percent): what Mask R-CNN logs as ``acc`` and SDMGR as
``acc_node`` / ``acc_edge``."""
from __future__ import annotations

import torch


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Top-1 accuracy in percent, as mmdet logs ``acc``."""
    if pred.size(0) == 0:
        return pred.new_tensor(0.0)
    label = pred.topk(1, dim=1)[1].t()
    correct = label.eq(target.view(1, -1).expand_as(label))
    return correct[:1].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / pred.size(0))

"""mmdet 2.28.2's ``FCNMaskHead``: four 3x3 convs on each positive RoI's 14x14 features, a 2x
deconvolution and per-class 28x28 mask logits; its targets (each ground-truth bitmap cropped
to the RoI and resized by RoIAlign, binarised at 0.5), loss, and test-time pasting of the
masks into the image (``grid_sample``, thresholded at ``mask_thr_binary``)."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ModuleList, call_weightless
from ocr_ds.models.common.conv_module import ConvModule
from ocr_ds.models.common.roi_ops import roi_align


class FCNMaskHead(BaseModule):
    """Args as mmdet's; upsampling by ``deconv`` only (what MMOCR's configs use)."""

    def __init__(self, num_convs: int = 4, roi_feat_size: int = 14, in_channels: int = 256,
                 conv_kernel_size: int = 3, conv_out_channels: int = 256, num_classes: int = 80,
                 class_agnostic: bool = False,
                 upsample_cfg: Mapping = dict(type="deconv", scale_factor=2),
                 conv_cfg: Mapping | None = None, norm_cfg: Mapping | None = None,
                 predictor_cfg: Mapping = dict(type="Conv"), loss_mask: Mapping | None = None,
                 init_cfg: Any = None):
        super().__init__(init_cfg)
        key = "model.roi_head.mask_head"
        up = dict(upsample_cfg)
        if up.get("type") != "deconv" or dict(predictor_cfg).get("type") != "Conv":
            raise UserError(f"{key}: ocr_ds's FCNMaskHead has upsample_cfg.type='deconv' and "
                            f"predictor_cfg.type='Conv' (got {up.get('type')!r}, "
                            f"{dict(predictor_cfg).get('type')!r})")
        scale = up.get("scale_factor", 2)
        self.num_classes = num_classes
        self.class_agnostic = class_agnostic
        self.loss_mask = registry.build(registry.COMPONENTS, loss_mask or dict(
            type="CrossEntropyLoss", use_mask=True), f"{key}.loss_mask")
        self.convs = ModuleList()
        for i in range(num_convs):
            self.convs.append(ConvModule(in_channels if i == 0 else conv_out_channels,
                                         conv_out_channels, conv_kernel_size,
                                         padding=(conv_kernel_size - 1) // 2,
                                         conv_cfg=conv_cfg, norm_cfg=norm_cfg))
        up_in = conv_out_channels if num_convs > 0 else in_channels
        self.upsample = nn.ConvTranspose2d(up_in, conv_out_channels, scale, stride=scale)
        self.conv_logits = nn.Conv2d(conv_out_channels, 1 if class_agnostic else num_classes, 1)
        self.relu = nn.ReLU(inplace=True)

    def init_weights(self) -> None:
        super().init_weights()
        for m in (self.upsample, self.conv_logits):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            x = conv(x)
        return self.conv_logits(self.relu(self.upsample(x)))

    @staticmethod
    def get_targets(sampling_results: Sequence[Any], gt_masks: Sequence[np.ndarray],
                    rcnn_train_cfg: Mapping) -> torch.Tensor:
        """Each positive's ground-truth bitmap inside its (clipped) proposal, RoIAligned to
        ``mask_size`` and binarised at 0.5 (mmdet's ``mask_target``)."""
        size = rcnn_train_cfg["mask_size"]
        size = (size, size) if isinstance(size, int) else tuple(size)
        out = []
        for res, masks in zip(sampling_results, gt_masks):
            props = res.pos_bboxes
            if props.size(0) == 0 or len(masks) == 0:
                out.append(props.new_zeros((0,) + size))
                continue
            masks = torch.as_tensor(np.asarray(masks))
            h, w = masks.shape[-2:]
            boxes = props.detach().clone()
            boxes[:, [0, 2]] = boxes[:, [0, 2]].clamp(0, w)
            boxes[:, [1, 3]] = boxes[:, [1, 3]].clamp(0, h)
            inds = res.pos_assigned_gt_inds.long().cpu()
            rois = torch.cat([torch.arange(len(boxes), dtype=boxes.dtype,
                                           device=boxes.device)[:, None], boxes], 1).cpu()
            sel = masks.index_select(0, inds).to(rois.dtype)[:, None]
            targets = roi_align(sel, rois, size, 1.0, 0).squeeze(1)
            out.append((targets >= 0.5).float().to(props.device))
        return torch.cat(out)

    def loss(self, mask_pred: torch.Tensor, mask_targets: torch.Tensor,
             labels: torch.Tensor) -> dict[str, torch.Tensor]:
        mask_pred = mask_pred.float()    # mmdet's force_fp32
        if mask_pred.size(0) == 0:
            return dict(loss_mask=mask_pred.sum())
        labels = torch.zeros_like(labels) if self.class_agnostic else labels
        # runs only where there are positives: outside DeepSpeed ZeRO-3's module trace
        return dict(loss_mask=call_weightless(self.loss_mask, mask_pred, mask_targets, labels))

    def get_seg_masks(self, mask_pred: torch.Tensor, det_bboxes: torch.Tensor,
                      det_labels: torch.Tensor, thr: float, ori_shape: Sequence[int],
                      scale_factor: Any, rescale: bool) -> list[list[np.ndarray]]:
        """Per class, the bool masks ``(H, W)`` of its detections in the image (the original
        one with ``rescale``)."""
        mask_pred = mask_pred.float().sigmoid()
        segms: list[list[np.ndarray]] = [[] for _ in range(self.num_classes)]
        bboxes = det_bboxes[:, :4]
        scale_factor = torch.as_tensor(np.asarray(scale_factor, dtype=np.float32)
                                       if not isinstance(scale_factor, torch.Tensor)
                                       else scale_factor)
        if scale_factor.numel() == 1:
            scale_factor = scale_factor.reshape(1).repeat(4)
        if rescale:
            img_h, img_w = ori_shape[:2]
            bboxes = bboxes / scale_factor.to(bboxes)
        else:
            img_h = int(np.round(ori_shape[0] * scale_factor[1].item()))
            img_w = int(np.round(ori_shape[1] * scale_factor[0].item()))
        n = len(mask_pred)
        if not self.class_agnostic:
            mask_pred = mask_pred[range(n), det_labels][:, None]
        for i in range(n):
            # one mask at a time, pasted into its own box's window (mmdet's CPU path)
            im_mask = torch.zeros(img_h, img_w, dtype=torch.bool)
            chunk, (ys, xs) = paste_mask(mask_pred[i:i + 1], bboxes[i:i + 1], img_h, img_w)
            im_mask[ys, xs] = (chunk[0] >= thr).cpu()
            segms[int(det_labels[i])].append(im_mask.numpy())
        return segms


def paste_mask(masks: torch.Tensor, boxes: torch.Tensor, img_h: int, img_w: int
               ) -> tuple[torch.Tensor, tuple[slice, slice]]:
    """mmdet's ``_do_paste_mask`` with ``skip_empty``: the masks resampled (bilinear,
    ``grid_sample``) onto the pixels of the boxes' joint window ``[y0:y1, x0:x1]``."""
    x0_int, y0_int = torch.clamp(boxes.min(dim=0).values.floor()[:2] - 1,
                                 min=0).to(dtype=torch.int32)
    x1_int = torch.clamp(boxes[:, 2].max().ceil() + 1, max=img_w).to(dtype=torch.int32)
    y1_int = torch.clamp(boxes[:, 3].max().ceil() + 1, max=img_h).to(dtype=torch.int32)
    x0, y0, x1, y1 = torch.split(boxes, 1, dim=1)
    n = masks.shape[0]
    img_y = torch.arange(y0_int, y1_int, device=masks.device).to(torch.float32) + 0.5
    img_x = torch.arange(x0_int, x1_int, device=masks.device).to(torch.float32) + 0.5
    img_y = (img_y - y0) / (y1 - y0) * 2 - 1
    img_x = (img_x - x0) / (x1 - x0) * 2 - 1
    # a zero-size box gives inf coordinates; mmdet zeroes them
    img_x = torch.where(torch.isinf(img_x), torch.zeros_like(img_x), img_x)
    img_y = torch.where(torch.isinf(img_y), torch.zeros_like(img_y), img_y)
    gx = img_x[:, None, :].expand(n, img_y.size(1), img_x.size(1))
    gy = img_y[:, :, None].expand(n, img_y.size(1), img_x.size(1))
    grid = torch.stack([gx, gy], dim=3)
    out = F.grid_sample(masks.to(dtype=torch.float32), grid, align_corners=False)
    return out[:, 0], (slice(int(y0_int), int(y1_int)), slice(int(x0_int), int(x1_int)))

"""``SegRecognizer``: segmentation-based text recognition (SegOCR; MMOCR 0.6.3's
``recognizer/seg_recognizer.py``).

Built from MMOCR's model dict::

    model = dict(type='SegRecognizer',
                 backbone=dict(type='ResNet31OCR', layers=[1, 2, 5, 3],
                               channels=[32, 64, 128, 256, 512, 512], out_indices=[0, 1, 2, 3],
                               stage4_pool_cfg=dict(kernel_size=2, stride=2),
                               last_stage_pool=True),
                 neck=dict(type='FPNOCR', in_channels=[128, 256, 512, 512], out_channels=256),
                 head=dict(type='SegHead', in_channels=256,
                           upsample_param=dict(scale_factor=2.0, mode='nearest')),
                 loss=dict(type='SegLoss', seg_downsample_ratio=1.0, seg_with_loss_weight=True),
                 label_convertor=dict(type='SegConvertor', dict_type='DICT36',
                                      with_unknown=True, lower=True))

in MMOCR's order (convertor, preprocessor, backbone, neck, head with the convertor's
``num_classes``, loss), so a seeded build draws MMOCR's initial weights and its checkpoints
load. ``backbone -> neck -> head`` gives per-pixel class logits:

* training: ``SegLoss`` against the batch's ``gt_kernels`` (``OCRSegTargets``, collected by
  the train pipeline) -> ``{'loss_seg'}``;
* testing: ``valid_ratio = resize_shape[1] / batch width``, then the convertor's
  connected-component decoding -> ``[{'text', 'score', 'char_scores'}, ...]`` (``score`` as in
  MMOCR's test-time augmentation: ``sum(char_scores) / max(1, len(text))``; views of
  ``MultiRotateAugOCR`` are merged as :class:`~ocr_ds.models.textrecog.recognizer.BaseRecognizer`
  does).
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.recognizer import BaseRecognizer, set_valid_ratios
from ocr_ds.registry import COMPONENTS, build


class SegRecognizer(BaseRecognizer):
    """Args:
        backbone, neck, head, loss, label_convertor: Configs (all required).
        preprocessor: Preprocessor config (e.g. TPS), or None. Defaults to None.
        train_cfg, test_cfg: Kept as attributes. Defaults to None.
        pretrained: A local checkpoint for the whole model (MMOCR's deprecated spelling of
            ``init_cfg=dict(type='Pretrained', ...)``). Defaults to None.
        init_cfg: Defaults to None.
    """

    def __init__(self, preprocessor: Mapping | None = None, backbone: Mapping | None = None,
                 neck: Mapping | None = None, head: Mapping | None = None,
                 loss: Mapping | None = None, label_convertor: Mapping | None = None,
                 train_cfg: Any = None, test_cfg: Any = None, pretrained: str | None = None,
                 init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        for name, value in (("label_convertor", label_convertor), ("backbone", backbone),
                            ("neck", neck), ("head", head), ("loss", loss)):
            if value is None:
                raise UserError(f"model.{name}: expected a dict with a 'type' key (got None)")
        self.label_convertor = build(COMPONENTS, label_convertor, "model.label_convertor")
        self.preprocessor = None
        if preprocessor is not None:
            self.preprocessor = build(COMPONENTS, preprocessor, "model.preprocessor")
        self.backbone = build(COMPONENTS, backbone, "model.backbone")
        self.neck = build(COMPONENTS, neck, "model.neck")
        self.head = build(COMPONENTS, head, "model.head",
                          num_classes=self.label_convertor.num_classes())
        self.loss = build(COMPONENTS, loss, "model.loss")
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        if pretrained is not None:
            self.init_cfg = dict(type="Pretrained", checkpoint=pretrained, prefix="")

    def seg_logits(self, img: torch.Tensor) -> torch.Tensor:
        """``(N, num_classes, h, w)`` per-pixel logits."""
        return self.head(self.neck(self.extract_feat(img)))

    def forward_train(self, img: torch.Tensor, img_metas: list[dict],
                      gt_kernels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        if gt_kernels is None:
            raise UserError("SegRecognizer: training batches need 'gt_kernels'; the train "
                            "pipeline needs OCRSegTargets and Collect(keys=['img', "
                            "'gt_kernels'])")
        feats = self.extract_feat(img)
        out_neck = self.neck(feats)
        out_head = self.head(out_neck)
        return self.loss(out_neck, out_head, gt_kernels.to(img.device))

    def simple_test(self, img: torch.Tensor, img_metas: list[dict]) -> list[dict[str, Any]]:
        out_head = self.seg_logits(img)
        set_valid_ratios(img_metas, img.size(-1))
        texts, scores = self.label_convertor.tensor2str(out_head, img_metas)
        return [{"text": text, "score": float(sum(s)) / max(1, len(text)), "char_scores": s}
                for text, s in zip(texts, scores)]

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True):
        img = batch["img"]
        img_metas = [dict(meta) for meta in batch["img_metas"]]
        if return_loss:
            return self.forward_train(img, img_metas, batch.get("gt_kernels"))
        return self.forward_test(img, img_metas)

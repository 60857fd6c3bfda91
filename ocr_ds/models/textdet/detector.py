"""The single-stage segmentation text detector both DBNet and PSENet are.

``backbone -> neck -> bbox_head``; training returns the head's losses, testing decodes each
sample and returns ``{'boundary_result': [[x1, y1, ..., score], ...]}`` in the coordinates of
the original image (the test pipeline's ``scale_factor`` undone). See
:mod:`ocr_ds.models` for the contract.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.models.common.base import BaseModule, ShowResultMixin


class SingleStageTextDetector(ShowResultMixin, BaseModule):
    """Args mirror MMOCR 0.x: ``backbone``, ``neck``, ``bbox_head`` dicts (built in this
    order, as mmdet's ``SingleStageDetector``); ``pretrained`` (deprecated, a backbone
    checkpoint); ``init_cfg`` as any ``BaseModule``'s; ``train_cfg``/``test_cfg``/``show_score``
    are accepted and unused, as in MMOCR's segmentation detectors."""

    #: batch keys the head's loss takes, in the order the pipeline produces them
    target_keys: tuple[str, ...] = ()
    #: the pipeline step that makes those keys, named in errors
    targets_step: str = ""

    def __init__(self, backbone: Mapping, neck: Mapping, bbox_head: Mapping,
                 train_cfg: Any = None, test_cfg: Any = None, pretrained: str | None = None,
                 show_score: bool = False, init_cfg: Any = None):
        super().__init__(init_cfg=init_cfg)
        backbone = dict(backbone)
        if pretrained is not None:
            if backbone.get("init_cfg") is not None:
                raise UserError("model.pretrained: give it or model.backbone.init_cfg, not both")
            backbone["init_cfg"] = dict(type="Pretrained", checkpoint=pretrained)
        self.backbone = registry.build(registry.COMPONENTS, backbone, "model.backbone")
        self.neck = registry.build(registry.COMPONENTS, neck, "model.neck")
        self.bbox_head = registry.build(registry.COMPONENTS, bbox_head, "model.bbox_head")

    def extract_feat(self, img: torch.Tensor) -> torch.Tensor:
        return self.neck(self.backbone(img))

    def test_outputs(self, img: torch.Tensor) -> Any:
        """The head's maps of a test batch, before decoding: what an ONNX export computes
        (:mod:`ocr_ds.deployment` swaps this for an ONNX Runtime session)."""
        return self.bbox_head(self.extract_feat(img))

    def forward(self, batch: Mapping[str, Any], return_loss: bool = True
                ) -> dict[str, torch.Tensor] | list[dict]:
        img = batch["img"]
        if return_loss:
            self.check_targets(batch, self.target_keys)
            preds = self.bbox_head(self.extract_feat(img))
            targets = {k: batch[k].to(img.device) for k in self.target_keys}
            return self.bbox_head.loss(preds, **targets)
        preds = self.test_outputs(img)
        metas = batch.get("img_metas") or [{} for _ in range(img.shape[0])]
        return [self.bbox_head.get_boundary(self.sample_preds(preds, i), metas[i])
                for i in range(img.shape[0])]

    def check_targets(self, batch: Mapping[str, Any], keys: tuple[str, ...]) -> None:
        """A one-line error naming the targets step when the batch lacks any of ``keys``."""
        missing = [k for k in keys if k not in batch]
        if missing:
            raise UserError(
                f"data.train.pipeline: the batch lacks {', '.join(missing)}; a "
                f"{type(self).__name__} training pipeline needs {self.targets_step} and "
                f"Collect(keys=['img', {', '.join(repr(k) for k in keys)}])")

    @staticmethod
    def sample_preds(preds: Any, i: int) -> Any:
        """Sample ``i``'s part of the head's output (a ``(N, C, H, W)`` map here)."""
        return preds[i]

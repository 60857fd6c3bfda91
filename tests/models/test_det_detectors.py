"""DBNet and PSENet keep the model contract: loss dicts in training, boundaries in testing."""
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError

torch.set_num_threads(1)


def dbnet_cfg(**head):
    return dict(
        type="DBNet",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, norm_eval=False,
                      style="caffe"),
        neck=dict(type="FPNC", in_channels=[8, 16, 32, 64], lateral_channels=16, out_channels=8),
        bbox_head=dict(type="DBHead", in_channels=32,
                       loss=dict(type="DBLoss", alpha=5.0, beta=10.0, bbce_loss=True),
                       postprocessor=dict(type="DBPostprocessor", text_repr_type="quad"), **head),
        train_cfg=None, test_cfg=None)


def psenet_cfg():
    return dict(
        type="PSENet",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8,
                      norm_cfg=dict(type="SyncBN", requires_grad=True), norm_eval=True),
        neck=dict(type="FPNF", in_channels=[8, 16, 32, 64], out_channels=16),
        bbox_head=dict(type="PSEHead", in_channels=[16], out_channels=7,
                       loss=dict(type="PSELoss"),
                       postprocessor=dict(type="PSEPostprocessor", text_repr_type="poly")))


def test_dbnet_train_and_test_forward():
    torch.manual_seed(0)
    model = registry.build(registry.MODELS, dbnet_cfg(), "model")
    n, h, w = 2, 64, 96
    batch = dict(img=torch.randn(n, 3, h, w), img_metas=[{}, {}],
                 gt_shrink=torch.zeros(n, h, w, dtype=torch.uint8),
                 gt_shrink_mask=torch.ones(n, h, w, dtype=torch.uint8),
                 gt_thr=torch.full((n, h, w), 0.3), gt_thr_mask=torch.zeros(n, h, w))
    batch["gt_shrink"][:, 20:30, 10:60] = 1
    losses = model(batch)
    assert set(losses) == {"loss_prob", "loss_db", "loss_thr"}
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad is not None
    model.eval()
    with torch.no_grad():
        out = model(dict(img=batch["img"], img_metas=[{"filename": "a.jpg"}, {}]),
                    return_loss=False)
    assert isinstance(out, list) and len(out) == 2
    assert [r["filename"] for r in out] == ["a.jpg", None]      # as MMOCR's HeadMixin
    for r in out:
        assert set(r) == {"boundary_result", "filename"}
        assert all(len(b) == 9 and 0 <= b[-1] <= 1 for b in r["boundary_result"])


def test_boundaries_are_rescaled_to_the_original_image():
    model = registry.build(registry.MODELS, dbnet_cfg(), "model").eval()
    model.bbox_head.postprocessor = lambda pred: [[10.0, 20.0, 30.0, 20.0, 30.0, 40.0, 10.0,
                                                   40.0, 0.9]]
    metas = [dict(scale_factor=np.array([2.0, 4.0, 2.0, 4.0], np.float32)), {}]
    with torch.no_grad():
        out = model(dict(img=torch.zeros(2, 3, 32, 32), img_metas=metas), return_loss=False)
    assert out[0]["boundary_result"] == [[5.0, 5.0, 15.0, 5.0, 15.0, 10.0, 5.0, 10.0, 0.9]]
    assert out[1]["boundary_result"][0][:2] == [10.0, 20.0]


def test_psenet_train_and_test_forward():
    torch.manual_seed(0)
    model = registry.build(registry.MODELS, psenet_cfg(), "model")
    n, h, w = 2, 64, 64
    kernels = torch.zeros(n, 7, h, w, dtype=torch.uint8)
    kernels[:, :, 20:40, 10:50] = 1
    losses = model(dict(img=torch.randn(n, 3, h, w), gt_kernels=kernels,
                        gt_mask=torch.ones(n, h, w, dtype=torch.uint8)))
    assert set(losses) == {"loss_text", "loss_kernel"}
    sum(losses.values()).backward()
    model.eval()
    head = model.bbox_head
    assert head.downsample_ratio == 0.25
    with torch.no_grad():
        preds = head(model.extract_feat(torch.randn(1, 3, h, w)))
        assert preds.shape == (1, 7, h // 4, w // 4)
        out = model(dict(img=torch.randn(1, 3, h, w), img_metas=[{}]), return_loss=False)
    assert len(out) == 1 and "boundary_result" in out[0]


def test_missing_targets_and_bad_parts_are_user_errors():
    model = registry.build(registry.MODELS, dbnet_cfg(), "model")
    with pytest.raises(UserError, match="gt_shrink.*DBNetTargets"):
        model(dict(img=torch.zeros(1, 3, 32, 32)))
    bad = dbnet_cfg()
    bad["bbox_head"]["loss"] = dict(type="NoLoss")
    with pytest.raises(UserError, match="model.bbox_head.loss.type"):
        registry.build(registry.MODELS, bad, "model")
    with pytest.raises(UserError, match="bbox_head.no_such_arg"):
        registry.build(registry.MODELS, dbnet_cfg(no_such_arg=1), "model")

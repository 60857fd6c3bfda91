"""OCRMaskRCNN without the reference: a half-precision model (what DeepSpeed's fp16/bf16 make
of it) trains and tests, and settings ocr_ds does not have are one-line errors naming the key."""
import copy

import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.engine.runner import parse_losses
from ocr_ds.errors import UserError
from test_maskrcnn_parity import CONFIGS, batch_of, load_model_cfg, narrow

torch.set_num_threads(1)


def run(cfg, dtype):
    img, metas, boxes, labels, masks = batch_of(np.random.RandomState(1))
    torch.manual_seed(5)
    model = registry.build(registry.MODELS, cfg, "model")
    model.init_weights()
    model.to(dtype).train()
    torch.manual_seed(7)
    loss, logs = parse_losses(model(dict(img=img.to(dtype), img_metas=metas, gt_bboxes=boxes,
                                         gt_labels=labels, gt_masks=masks)))
    loss.backward()
    model.eval()
    meta = dict(img_shape=(96, 128, 3), ori_shape=(96, 128, 3), pad_shape=(96, 128, 3),
                scale_factor=np.ones(4, np.float32))
    with torch.no_grad():
        out = model(dict(img=img[:1].to(dtype), img_metas=[meta]), return_loss=False)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return logs, out[0]["boundary_result"], grads


def test_half_precision_model_trains_and_tests():
    cfg = narrow(load_model_cfg(CONFIGS[1]))
    logs32, boundaries32, _ = run(cfg, torch.float32)
    for dtype in (torch.bfloat16, torch.float16):
        logs, boundaries, grads = run(cfg, dtype)
        # anchors, box targets, losses and RoI pooling run in float32 (mmdet's force_fp32):
        # the same samples, so the losses stay within the half model's rounding of fp32's
        for k in ("loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_mask"):
            assert abs(float(logs[k]) - float(logs32[k])) <= 0.02 * float(logs32[k]) + 1e-4, k
        assert all(torch.isfinite(g).all() for g in grads) and len(grads) > 50
        assert len(boundaries) == len(boundaries32) > 0


@pytest.mark.parametrize("key, change, message", [
    ("roi_head.bbox_roi_extractor.roi_layer", dict(aligned=False),
     "model.roi_head.bbox_roi_extractor.roi_layer: ocr_ds has pool_mode='avg' with "
     "aligned=True only"),
    ("train_cfg.rcnn.sampler", dict(type="PseudoSampler"),
     "model.train_cfg.rcnn.sampler.type: expected 'RandomSampler' or 'OHEMSampler' "
     "(got 'PseudoSampler')"),
    ("rpn_head.anchor_generator", dict(octave_base_scale=4),
     "model.rpn_head.anchor_generator.octave_base_scale: not an argument of AnchorGenerator"),
    ("roi_head.mask_head.loss_mask", dict(type="FocalLoss"),
     "model.roi_head.mask_head.loss_mask.type: unknown 'FocalLoss'"),
])
def test_settings_ocr_ds_lacks_are_one_line_errors(key, change, message):
    cfg = copy.deepcopy(load_model_cfg(CONFIGS[1]))
    node = cfg
    for part in key.split("."):
        node = node[part]
    node.update(change)
    with pytest.raises(UserError) as exc:
        registry.build(registry.MODELS, cfg, "model")
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value)


def test_zero3_passes_the_config_check():
    """Stage 3 was refused while ranks could run different modules (2 CPU ranks stopped at the
    first steps: one mined with OHEM, the other did not); every rank now runs the same modules
    (test_maskrcnn_zero3.py trains, evaluates and saves at stage 3), so no stage is refused,
    from either source."""
    from ocr_ds.config import Config
    from ocr_ds.config.check import check_config

    cfg = Config.fromfile("configs/textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py")

    def problems(stage, overrides=None):
        c = copy.deepcopy(cfg)
        if stage is not None:
            c.merge_from_dict({"deepspeed": {"zero_optimization": {"stage": stage}}})
        return [p for p in check_config(c, world_size=2, ds_overrides=overrides,
                                        ds_overrides_name="ds.json", build=False)
                if "zero_optimization" in p]

    assert problems(3) == [] and problems(None, {"zero_optimization": {"stage": 3}}) == []
    assert problems(2) == [] and problems(0) == []


def test_roi_align_chunks_stay_within_their_budget(monkeypatch):
    """RoIs are pooled in chunks that gather at most ``max_elems`` features (a chunk's window is
    its tallest span by its widest: a tall and a wide RoI together make a large one, which once
    made Mask R-CNN's test on 1000 random proposals take 19 GB); any chunking gives the same
    result as one RoI at a time."""
    from ocr_ds.models.common import roi_ops

    g = torch.Generator().manual_seed(0)
    feat = torch.randn(1, 8, 64, 64, generator=g)
    tall = [[0, x, 0, x + 3, 63] for x in range(0, 60, 4)]
    wide = [[0, 0, y, 63, y + 3] for y in range(0, 60, 4)]
    rois = torch.tensor(tall + wide, dtype=torch.float32)
    one_by_one = roi_ops.roi_align(feat, rois, (7, 7), 1.0, max_elems=1)
    gathered = []
    bmm = torch.bmm

    def spy(a, b):
        gathered.append((b.shape[0], b.numel()))
        return bmm(a, b)

    monkeypatch.setattr(torch, "bmm", spy)
    budget = 4 * 64 * 4 * 8 * 4             # four thin RoIs' windows, not a 64 x 64 one
    out = roi_ops.roi_align(feat, rois, (7, 7), 1.0, max_elems=budget)
    firsts = gathered[0::2]                  # each chunk's first product reads the window
    assert len(firsts) > 2 and all(n <= budget or r == 1 for r, n in firsts), firsts
    assert torch.allclose(out, one_by_one, rtol=1e-5, atol=1e-6)

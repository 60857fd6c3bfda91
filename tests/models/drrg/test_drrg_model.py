"""DRRG beyond MMOCR's own behaviour: training in bf16 (what DeepSpeed's bf16 engine runs),
and the one-line error of a training pipeline without DRRGTargets' components."""
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError

TINY = dict(
    type="DRRG",
    backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, norm_eval=False,
                  style="caffe"),
    neck=dict(type="FPN_UNet", in_channels=[8, 16, 32, 64], out_channels=8),
    bbox_head=dict(type="DRRGHead", in_channels=8))


def tiny_batch(rng, n=2, size=32, num=10):
    attribs = np.zeros((n, 600, 8), np.float32)
    angle = rng.uniform(-np.pi, np.pi, (n, num))
    attribs[:, :num, 0] = num
    attribs[:, :num, 1:3] = rng.uniform(6, size - 6, (n, num, 2))
    attribs[:, :num, 3:5] = rng.uniform(4, 12, (n, num, 2))
    attribs[:, :num, 5], attribs[:, :num, 6] = np.cos(angle), np.sin(angle)
    attribs[:, :num, 7] = rng.randint(0, 3, (n, num))
    text = (rng.rand(n, size, size) < 0.3).astype(np.uint8)
    center = text * (rng.rand(n, size, size) < 0.5).astype(np.uint8)
    heights = (center * rng.uniform(1, 6, (n, size, size))).astype(np.float32)
    return dict(img=torch.from_numpy(rng.normal(0, 1, (n, 3, size, size)).astype(np.float32)),
                gt_text_mask=torch.from_numpy(text), gt_center_region_mask=torch.from_numpy(
                    center), gt_mask=torch.ones(n, size, size, dtype=torch.uint8),
                gt_top_height_map=torch.from_numpy(heights),
                gt_bot_height_map=torch.from_numpy(heights),
                gt_sin_map=torch.from_numpy(center * np.float32(0.6)),
                gt_cos_map=torch.from_numpy(center * np.float32(0.8)),
                gt_comp_attribs=torch.from_numpy(attribs))


def test_drrg_trains_in_bf16():
    torch.manual_seed(0)
    model = registry.build(registry.MODELS, TINY, "model")
    model.init_weights()
    batch = tiny_batch(np.random.RandomState(0))
    with torch.no_grad():
        fp32 = {k: float(v) for k, v in model(dict(batch)).items()}
    model = model.to(torch.bfloat16)
    batch["img"] = batch["img"].to(torch.bfloat16)
    losses = model(batch)
    assert all(v.dtype == torch.float32 for v in losses.values())
    sum(losses.values()).backward()
    for key, value in losses.items():
        assert abs(float(value.detach()) - fp32[key]) < 0.05 * abs(fp32[key]) + 0.02, key
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert model.bbox_head.gcn.conv1.weight.grad.abs().sum() > 0


def test_training_without_components_says_which_step():
    model = registry.build(registry.MODELS, TINY, "model")
    batch = tiny_batch(np.random.RandomState(0))
    del batch["gt_comp_attribs"]
    with pytest.raises(UserError, match=r"^data.train.pipeline: the batch lacks "
                                        r"gt_comp_attribs; a DRRG training pipeline needs "
                                        r"DRRGTargets and Collect\(keys=\['img', "):
        model(batch)


def test_testing_runs_the_gcn_also_where_no_graph_is_found():
    """DeepSpeed ZeRO-3 gathers the GCN's weights as it runs, so every rank must run it for
    each image: MMOCR skips it where fewer than two components are found, ocr_ds runs it on no
    graph there (output unused; the boundaries are MMOCR's: none)."""
    head = dict(TINY["bbox_head"], text_region_thr=1.0)   # a sigmoid never reaches it
    model = registry.build(registry.MODELS, dict(TINY, bbox_head=head), "model")
    model.init_weights()
    model.eval()
    graphs = []
    model.bbox_head.gcn.register_forward_pre_hook(lambda m, args: graphs.append(len(args[0])))
    batch = tiny_batch(np.random.RandomState(0))
    meta = dict(scale_factor=np.ones(4, np.float32))
    with torch.no_grad():
        out = model(dict(img=batch["img"], img_metas=[meta, meta]), return_loss=False)
    assert graphs == [0, 0]
    assert [r["boundary_result"] for r in out] == [[], []]

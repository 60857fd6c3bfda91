"""DRRG against MMOCR 0.6.3: mmcv's RoIAlignRotated, keys, initialisation, an MMOCR
checkpoint, train losses and gradients (through the local graphs and the GCN), eval maps,
and the loss's edge cases."""
import os

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.models.textdet.drrg.roi_align_rotated import roi_align_rotated
from parity import assert_close, check_detector, ref_file

REF = ref_file(__file__, "mmocr_drrg.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = "textdet/drrg/drrg_r50_fpn_unet_1200e_ctw1500.py"
TARGETS = ("gt_text_mask", "gt_center_region_mask", "gt_mask", "gt_top_height_map",
           "gt_bot_height_map", "gt_sin_map", "gt_cos_map")
torch.set_num_threads(1)


def model_cfg():
    cfg = Config.fromfile(os.path.join(REPO, "configs", CONFIG)).to_dict()["model"]
    cfg["backbone"].pop("init_cfg", None)
    return cfg


def random_maps(rng, n, h, w):
    """DRRG targets with the structure DRRGTargets gives (center inside text)."""
    text = (rng.rand(n, h, w) < 0.3).astype(np.uint8)
    center = text * (rng.rand(n, h, w) < 0.4).astype(np.uint8)
    angle = rng.uniform(-np.pi, np.pi, (n, h, w))
    return dict(gt_text_mask=text, gt_center_region_mask=center,
                gt_mask=(rng.rand(n, h, w) < 0.95).astype(np.uint8),
                gt_top_height_map=(center * rng.uniform(1, 8, (n, h, w))).astype(np.float32),
                gt_bot_height_map=(center * rng.uniform(1, 8, (n, h, w))).astype(np.float32),
                gt_sin_map=(center * np.sin(angle)).astype(np.float32),
                gt_cos_map=(center * np.cos(angle)).astype(np.float32))


def random_comps(rng, n, size, num=12, max_comps=600):
    """Padded component attributes (count, x, y, h, w, cos, sin, label) of ``num`` random
    components per image, labels 0-2 (0: background)."""
    attribs = np.zeros((n, max_comps, 8), np.float32)
    angle = rng.uniform(-np.pi, np.pi, (n, num))
    attribs[:, :num, 0] = num
    attribs[:, :num, 1:3] = rng.uniform(6, size - 6, (n, num, 2))
    attribs[:, :num, 3] = rng.uniform(6, 16, (n, num))
    attribs[:, :num, 4] = rng.uniform(4, 10, (n, num))
    attribs[:, :num, 5] = np.cos(angle)
    attribs[:, :num, 6] = np.sin(angle)
    attribs[:, :num, 7] = rng.randint(0, 3, (n, num))
    return attribs


def test_roi_align_rotated_equals_mmcv(mmocr_ref):
    """Forward and input gradient, mmcv's variants (aligned, clockwise, fixed sampling),
    RoIs partly outside the map, several images."""
    rng = np.random.RandomState(0)
    feats = torch.from_numpy(rng.normal(0, 1, (2, 3, 13, 17)).astype(np.float32))
    n = 9
    rois = np.stack([rng.randint(0, 2, n), rng.uniform(-2, 19, n), rng.uniform(-2, 15, n),
                     rng.uniform(1, 12, n), rng.uniform(1, 9, n),
                     rng.uniform(-np.pi, np.pi, n)], 1).astype(np.float32)
    rois = torch.from_numpy(rois)
    variants = [dict(output_size=(4, 3), spatial_scale=1.0),
                dict(output_size=(2, 5), spatial_scale=0.5, aligned=False, clockwise=True),
                dict(output_size=3, spatial_scale=1.0, sampling_ratio=2, clockwise=True)]
    cases = []
    for kw in variants:
        size = kw["output_size"]
        size = (size, size) if isinstance(size, int) else size
        cases.append((feats, rois, kw, torch.from_numpy(
            rng.normal(0, 1, (n, 3) + tuple(size)).astype(np.float32))))
    theirs = mmocr_ref.call(REF, "roi_align", cases=cases)
    for (f, r, kw, weight), ref in zip(cases, theirs):
        f = f.clone().requires_grad_(True)
        kw = dict(kw)
        out = roi_align_rotated(f, r, **kw)
        (out * weight).sum().backward()
        assert_close(out, ref["out"], what=f"RoIAlignRotated {kw}")
        assert_close(f.grad, ref["grad"], what=f"RoIAlignRotated grad {kw}")


def test_drrg_equals_mmocr(mmocr_ref, tmp_path):
    rng = np.random.RandomState(0)
    img = torch.from_numpy(rng.normal(0, 1, (2, 3, 32, 32)).astype(np.float32))
    maps = {k: torch.from_numpy(v) for k, v in random_maps(rng, 2, 32, 32).items()}
    comps = torch.from_numpy(random_comps(rng, 2, 32))
    ckpt = str(tmp_path / "drrg_mmocr.pth")
    theirs = mmocr_ref.call(REF, "model_run", config=CONFIG, seed=3, img=img,
                            maps={k: list(v) for k, v in maps.items()},
                            comp_attribs=list(comps), checkpoint=ckpt)

    torch.manual_seed(3)
    model = registry.build(registry.MODELS, model_cfg(), "model")
    model.init_weights()
    check_detector(model, theirs, ckpt, dict(img=img, gt_comp_attribs=comps, **maps))
    model.eval()
    with torch.no_grad():
        assert_close(model.bbox_head.out_conv(model.extract_feat(img[:1])),
                     theirs["eval_maps"], what="eval head maps")


def test_head_initialises_as_mmocr(mmocr_ref):
    """Built alone from one seed: out_conv and the GCN bit-identical."""
    cfg = model_cfg()["bbox_head"]
    theirs = mmocr_ref.call(REF, "head_init", head_cfg=cfg, seed=11)
    torch.manual_seed(11)
    head = registry.build(registry.COMPONENTS, cfg, "model.bbox_head")
    head.init_weights()
    assert_close(head.state_dict(), theirs, rtol=0, atol=0, what="DRRGHead init")


def test_loss_edge_cases_equal_mmocr(mmocr_ref):
    """No text at all (100 hardest negatives, zero center losses), and targets at twice the
    prediction's resolution (downsample_ratio 0.5: heights scaled)."""
    rng = np.random.RandomState(2)
    empty = {k: torch.from_numpy(v * 0) for k, v in random_maps(rng, 2, 16, 16).items()}
    empty["gt_mask"] += 1
    big = {k: torch.from_numpy(v) for k, v in random_maps(rng, 2, 32, 24).items()}
    gcn = torch.from_numpy(rng.normal(0, 1, (24, 2)).astype(np.float32))
    labels = torch.from_numpy(rng.randint(0, 2, (3, 8)))
    cases = [(torch.from_numpy(rng.normal(0, 1, (2, 6, 16, 16)).astype(np.float32)), gcn,
              labels, 1.0, empty),
             (torch.from_numpy(rng.normal(0, 1, (2, 6, 16, 12)).astype(np.float32)), gcn,
              labels, 0.5, big)]
    theirs = mmocr_ref.call(REF, "losses", cases=cases)
    loss = registry.build(registry.COMPONENTS, dict(type="DRRGLoss"), "loss")
    for (pred, gcn_pred, gcn_labels, ratio, maps), ref in zip(cases, theirs):
        pred = pred.clone().requires_grad_(True)
        result = loss((pred, (gcn_pred, gcn_labels)), ratio, **maps)
        sum(result.values()).backward()
        assert_close(result, ref["losses"], what=f"losses at ratio {ratio}")
        assert_close(pred.grad, ref["grad"], what=f"gradient at ratio {ratio}")

"""FCENet against MMOCR 0.6.3 (and mmdet 2.28.2's FPN): keys, initialisation, train losses and
gradients, eval maps and boundaries, and the Fourier decoding + polygon NMS on crafted maps."""
import os

import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from parity import assert_close, check_detector, ref_file

REF = ref_file(__file__, "mmocr_fcenet.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = "textdet/fcenet/fcenet_r50_fpn_1500e_icdar2015.py"
torch.set_num_threads(1)


def model_cfg():
    cfg = Config.fromfile(os.path.join(REPO, "configs", CONFIG)).to_dict()["model"]
    cfg["backbone"].pop("init_cfg", None)
    return cfg


def level_maps(rng, n, h, w, k=5):
    """Random FCENet targets of one level: region, center (inside region), effective mask,
    Fourier coefficients."""
    region = (rng.rand(n, 1, h, w) < 0.3).astype(np.float32)
    center = region * (rng.rand(n, 1, h, w) < 0.5)
    mask = (rng.rand(n, 1, h, w) < 0.9).astype(np.float32)
    coeff = rng.normal(0, 2, (n, 2 * (2 * k + 1), h, w)).astype(np.float32) * region
    return torch.from_numpy(np.concatenate([region, center, mask, coeff], 1))


def test_fcenet_equals_mmocr(mmocr_ref, tmp_path):
    rng = np.random.RandomState(0)
    img = torch.from_numpy(rng.normal(0, 1, (2, 3, 64, 96)).astype(np.float32))
    maps = {f"p{i}_maps": level_maps(rng, 2, 64 // s, 96 // s)
            for i, s in ((3, 8), (4, 16), (5, 32))}
    maps["p5_maps"][:, :3] = 0          # a level without text: OHEM's 100 hardest negatives
    maps["p5_maps"][:, 2] = 1
    ckpt = str(tmp_path / "fcenet_mmocr.pth")
    theirs = mmocr_ref.call(REF, "model_run", config=CONFIG, seed=3, img=img,
                            maps={k: list(v) for k, v in maps.items()}, checkpoint=ckpt)

    torch.manual_seed(3)
    model = registry.build(registry.MODELS, model_cfg(), "model")
    model.init_weights()
    check_detector(model, theirs, ckpt, dict(img=img, **maps))
    model.eval()
    meta = dict(scale_factor=np.array([0.5, 0.8, 0.5, 0.8], np.float32))
    with torch.no_grad():
        preds = model.bbox_head(model.extract_feat(img[:1]))
        out = model(dict(img=img[:1], img_metas=[meta]), return_loss=False)
    assert_close(preds, theirs["eval_maps"], what="eval head maps")
    assert_close(out[0]["boundary_result"], theirs["boundaries"], what="boundaries")


def test_fpn_and_head_initialise_as_mmdet_and_mmocr(mmocr_ref):
    """Built alone from one seed: bit-identical weights (construction and init walk order)."""
    cfg = model_cfg()
    theirs = mmocr_ref.call(REF, "neck_and_head_init", neck_cfg=cfg["neck"],
                            head_cfg=cfg["bbox_head"], seed=11)
    torch.manual_seed(11)
    neck = registry.build(registry.COMPONENTS, cfg["neck"], "model.neck")
    neck.init_weights()
    head = registry.build(registry.COMPONENTS, cfg["bbox_head"], "model.bbox_head")
    head.init_weights()
    assert_close(neck.state_dict(), theirs["neck"], rtol=0, atol=0, what="FPN init")
    assert_close(head.state_dict(), theirs["head"], rtol=0, atol=0, what="FCEHead init")


FPN_VARIANTS = [
    dict(type="mmdet.FPN", in_channels=[4, 8, 16], out_channels=6, num_outs=5),
    dict(type="mmdet.FPN", in_channels=[4, 8, 16], out_channels=6, num_outs=5,
         add_extra_convs="on_input", norm_cfg=dict(type="BN"), act_cfg=dict(type="ReLU")),
    dict(type="mmdet.FPN", in_channels=[4, 8, 16], out_channels=6, num_outs=4,
         add_extra_convs=True),
    dict(type="mmdet.FPN", in_channels=[4, 8, 16], out_channels=6, num_outs=5,
         add_extra_convs="on_output", relu_before_extra_convs=True),
    dict(type="mmdet.FPN", in_channels=[4, 8, 16, 32], out_channels=6, num_outs=4,
         start_level=1, add_extra_convs="on_lateral", relu_before_extra_convs=True,
         upsample_cfg=dict(scale_factor=2, mode="nearest")),
    dict(type="mmdet.FPN", in_channels=[4, 8, 16], out_channels=6, num_outs=2, end_level=1,
         no_norm_on_lateral=True, norm_cfg=dict(type="GN", num_groups=2)),
]


def test_fpn_variants_equal_mmdet(mmocr_ref):
    """Extra levels (max-pool, on input / lateral / output), norms, activations, level
    ranges and upsampling modes, from one seed: equal weights and outputs."""
    rng = np.random.RandomState(1)
    feats = [torch.from_numpy(rng.normal(0, 1, (2, c, 32 >> i, 32 >> i)).astype(np.float32))
             for i, c in enumerate((4, 8, 16, 32))]
    cases = [({**c, "type": "FPN"}, feats[:len(c["in_channels"])]) for c in FPN_VARIANTS]
    theirs = mmocr_ref.call(REF, "fpn_variants", cases=cases, seed=5)
    for (cfg, inputs), ref in zip(cases, theirs):
        torch.manual_seed(5)
        neck = registry.build(registry.COMPONENTS, cfg, "model.neck")
        neck.init_weights()
        assert_close(neck.state_dict(), ref["state"], rtol=0, atol=0, what=f"{cfg} init")
        assert_close(list(neck.train()(inputs)), ref["outs"], what=str(cfg))


# ------------------------------------------------------------------ decoding on crafted maps

def crafted_level(rng, h, w, blobs, k=5):
    """Head outputs of one level (batch 1): text/center logits high in elliptic blobs, and at
    each pixel the Fourier coefficients of a noisy ellipse around it."""
    cls = np.full((1, 4, h, w), 0.0, np.float32)
    cls[:, 0] = 2.0
    cls[:, 2] = 2.0
    ys, xs = np.mgrid[0:h, 0:w]
    for cy, cx, ry, rx in blobs:
        inside = ((ys - cy) / ry) ** 2 + ((xs - cx) / rx) ** 2
        cls[0, 1] += np.where(inside < 1, 5.0 - 3 * inside, 0) + rng.normal(0, .3, (h, w))
        cls[0, 3] += np.where(inside < 0.5, 5.0 - 6 * inside, 0) + rng.normal(0, .3, (h, w))
    reg = rng.normal(0, 0.05, (1, 2 * (2 * k + 1), h, w)).astype(np.float32)
    reg[0, k + 1] += 1.5 + rng.uniform(0, 0.3, (h, w))       # c_1: radius
    reg[0, k - 1] += 0.6                                       # c_-1: an ellipse
    reg[0, 3 * k + 2] += rng.normal(0, 0.2, (h, w))            # imaginary c_1
    return [torch.from_numpy(cls), torch.from_numpy(reg)]


@pytest.mark.parametrize("repr_type", ["poly", "quad"])
def test_fce_decoding_equals_mmocr(mmocr_ref, repr_type):
    rng = np.random.RandomState(7)
    cases = [
        ([crafted_level(rng, 24, 32, [(6, 8, 3, 5), (15, 22, 4, 6), (16, 8, 2, 2)]),
          crafted_level(rng, 12, 16, [(6, 8, 3, 4)]),
          crafted_level(rng, 6, 8, [])], torch.tensor([1.0, 1.0, 1.0, 1.0])),
        ([crafted_level(rng, 16, 16, [(8, 8, 5, 6), (8, 9, 4, 4)]),
          crafted_level(rng, 8, 8, []), crafted_level(rng, 4, 4, [])],
         torch.tensor([0.75, 1.25, 0.75, 1.25])),
        ([crafted_level(rng, 8, 8, []), crafted_level(rng, 4, 4, []),
          crafted_level(rng, 2, 2, [])], torch.tensor([1.0, 1.0, 1.0, 1.0])),
    ]
    head_cfg = model_cfg()["bbox_head"]
    head_cfg["postprocessor"] = dict(head_cfg["postprocessor"], text_repr_type=repr_type,
                                     score_thr=0.3, alpha=1.2, beta=1.0)
    theirs = mmocr_ref.call(REF, "decode", head_cfg=head_cfg, cases=cases)
    head = registry.build(registry.COMPONENTS, head_cfg, "model.bbox_head")
    found = 0
    for (levels, scale_factor), ref in zip(cases, theirs):
        ours = head.get_boundary(levels, dict(scale_factor=scale_factor.numpy()))
        assert_close(ours["boundary_result"], ref, what="boundaries")
        found += len(ref)
    assert found >= 4

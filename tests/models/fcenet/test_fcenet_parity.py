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


def nms_boundaries(rng):
    """Proposals as FCENet makes them (integer points, a score), with the cases that decide
    which survive: clusters that overlap, a grid of boxes whose bounding boxes meet only at an
    edge or a corner (IoU 0), self-crossing bow-ties (cleaned by buffer(0)), zero-area ones
    far apart (an empty union: IoU 1), nested and duplicated ones, tied scores. Every one has
    12 points, as FCENet's all have ``num_reconstr_points`` (MMOCR's NMS needs one length)."""
    def star(cx, cy, r, n=12):
        angle = np.sort(rng.uniform(0, 2 * np.pi, n))
        radius = r * rng.uniform(0.5, 1.5, n)
        return list(np.stack([cx + radius * np.cos(angle),
                              cy + radius * np.sin(angle)], 1).astype(np.int32).ravel())
    out = []
    for cx, cy in rng.uniform(0, 200, (6, 2)):                   # overlapping clusters
        out += [star(cx + rng.normal(0, 6), cy + rng.normal(0, 6), rng.uniform(5, 20))
                for _ in range(25)]
    out += [[x, y, x + 10, y, x + 10, y + 10, x, y + 10]               # edges and corners
            for x in range(300, 400, 10) for y in range(0, 50, 10)]
    out += [[0, 0, 20, 20, 20, 0, 0, 20], [5, 0, 25, 20, 25, 0, 5, 20]]   # bow-ties
    out += [[500, 500] * 4, [900, 900, 910, 910, 920, 920, 930, 930],     # zero area
            [0, 900] * 4]
    out += [[100, 300, 180, 300, 180, 380, 100, 380], [120, 320, 140, 320, 140, 340, 120, 340]]
    out += [out[3], out[3], out[40]]                                    # duplicates
    out = [b if len(b) == 24 else [v for i in range(0, 8, 2) for v in b[i:i + 2] * 3]
           for b in out]                                                # 4 points, thrice
    scores = np.round(rng.uniform(0.3, 1, len(out)), 1)                 # ties
    return [[int(v) for v in b] + [float(s)] for b, s in zip(out, scores)]


def test_poly_nms_equals_mmocr(mmocr_ref):
    """The boundaries MMOCR's poly_nms keeps, in its order, though ours skips the IoU of
    boundaries whose bounding boxes do not meet: every threshold, and FCENet's 0.1 on several
    seeded sets."""
    from ocr_ds.models.textdet.fcenet.postprocess import poly_nms
    boundaries = nms_boundaries(np.random.RandomState(11))
    cases = [(boundaries, t) for t in (0.1, 0.0, 0.5, 1.0, -0.1)]
    cases += [(nms_boundaries(np.random.RandomState(seed)), 0.1) for seed in (1, 2, 3)]
    cases += [([], 0.1), (boundaries[:1], 0.1)]
    theirs = mmocr_ref.call(REF, "nms", cases=cases)
    kept = []
    for (polygons, threshold), ref in zip(cases, theirs):
        ours = poly_nms(polygons, threshold)
        assert ours == ref, threshold
        kept.append(len(ref))
    # the cases decide something: some suppressed, some kept, all-but-one at -0.1
    assert 1 < kept[0] < len(boundaries) and kept[4] == 1 and kept[3] > kept[0], kept

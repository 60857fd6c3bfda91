"""TextSnake against MMOCR 0.6.3: keys, initialisation, train losses and gradients, eval
maps, the loss at another downsample ratio, and the disk decoding on crafted maps."""
import os

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from parity import assert_close, check_detector, ref_file

REF = ref_file(__file__, "mmocr_textsnake.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIG = "textdet/textsnake/textsnake_r50_fpn_unet_1200e_ctw1500.py"
torch.set_num_threads(1)


def model_cfg():
    cfg = Config.fromfile(os.path.join(REPO, "configs", CONFIG)).to_dict()["model"]
    cfg["backbone"].pop("init_cfg", None)
    return cfg


def random_targets(rng, n, h, w):
    """TextSnake targets with the structure TextSnakeTargets gives (center inside text)."""
    text = (rng.rand(n, h, w) < 0.3).astype(np.uint8)
    center = text * (rng.rand(n, h, w) < 0.4).astype(np.uint8)
    angle = rng.uniform(-np.pi, np.pi, (n, h, w))
    return dict(gt_text_mask=text, gt_center_region_mask=center,
                gt_mask=(rng.rand(n, h, w) < 0.95).astype(np.uint8),
                gt_radius_map=(center * rng.uniform(1, 8, (n, h, w))).astype(np.float32),
                gt_sin_map=(center * np.sin(angle)).astype(np.float32),
                gt_cos_map=(center * np.cos(angle)).astype(np.float32))


def test_textsnake_equals_mmocr(mmocr_ref, tmp_path):
    rng = np.random.RandomState(0)
    img = torch.from_numpy(rng.normal(0, 1, (2, 3, 64, 64)).astype(np.float32))
    maps = {k: torch.from_numpy(v) for k, v in random_targets(rng, 2, 64, 64).items()}
    ckpt = str(tmp_path / "textsnake_mmocr.pth")
    theirs = mmocr_ref.call(REF, "model_run", config=CONFIG, seed=3, img=img,
                            maps={k: list(v) for k, v in maps.items()}, checkpoint=ckpt)

    torch.manual_seed(3)
    model = registry.build(registry.MODELS, model_cfg(), "model")
    model.init_weights()
    check_detector(model, theirs, ckpt, dict(img=img, **maps))
    model.eval()
    with torch.no_grad():
        assert_close(model.bbox_head(model.extract_feat(img[:1])), theirs["eval_maps"],
                     what="eval head maps")


def test_neck_and_head_initialise_as_mmocr(mmocr_ref):
    """Built alone from one seed: bit-identical weights (construction and init walk order)."""
    cfg = model_cfg()
    theirs = mmocr_ref.call(REF, "neck_and_head_init", neck_cfg=cfg["neck"],
                            head_cfg=cfg["bbox_head"], seed=11)
    torch.manual_seed(11)
    neck = registry.build(registry.COMPONENTS, cfg["neck"], "model.neck")
    neck.init_weights()
    head = registry.build(registry.COMPONENTS, cfg["bbox_head"], "model.bbox_head")
    head.init_weights()
    assert_close(neck.state_dict(), theirs["neck"], rtol=0, atol=0, what="FPN_UNet init")
    assert_close(head.state_dict(), theirs["head"], rtol=0, atol=0, what="head init")


def test_loss_edge_cases_equal_mmocr(mmocr_ref):
    """No text at all (100 hardest negatives, zero center losses), and targets at 4x the
    prediction's resolution (downsample_ratio 0.25)."""
    rng = np.random.RandomState(2)
    empty = {k: torch.from_numpy(v * 0) for k, v in random_targets(rng, 2, 16, 16).items()}
    empty["gt_mask"] += 1
    big = {k: torch.from_numpy(v) for k, v in random_targets(rng, 2, 64, 48).items()}
    cases = [(torch.from_numpy(rng.normal(0, 1, (2, 5, 16, 16)).astype(np.float32)), 1.0,
              empty),
             (torch.from_numpy(rng.normal(0, 1, (2, 5, 16, 12)).astype(np.float32)), 0.25,
              big)]
    theirs = mmocr_ref.call(REF, "losses", cases=cases)
    loss = registry.build(registry.COMPONENTS, dict(type="TextSnakeLoss"), "loss")
    for (pred, ratio, maps), ref in zip(cases, theirs):
        pred = pred.clone().requires_grad_(True)
        out = loss(pred, ratio, **maps)
        sum(out.values()).backward()
        assert_close(out, ref["losses"], what=f"losses at ratio {ratio}")
        assert_close(pred.grad, ref["grad"], what=f"gradient at ratio {ratio}")


def crafted_maps(h, w, lines, rng):
    """Head outputs (batch 1): for each (cy, amplitude, height, x0, x1) a sine-shaped text line
    with its center band, tangent direction and radius."""
    maps = np.zeros((1, 5, h, w), np.float32)
    maps[0, 0] = -4
    maps[0, 1] = -4
    maps[0, 3] = 1
    xs = np.arange(w)
    for cy, amp, height, x0, x1 in lines:
        yc = cy + amp * np.sin(xs / 9.0)
        slope = amp / 9.0 * np.cos(xs / 9.0)
        for x in range(x0, x1):
            for y in range(h):
                d = abs(y - yc[x])
                if d < height / 2:
                    maps[0, 0, y, x] = 4 + rng.normal(0, .5)
                    maps[0, 4, y, x] = height / 2 + rng.normal(0, .3)
                    maps[0, 2, y, x] = slope[x] / np.hypot(1, slope[x]) * 3
                    maps[0, 3, y, x] = 1 / np.hypot(1, slope[x]) * 3
                if d < height / 6 and x0 + 2 < x < x1 - 2:
                    maps[0, 1, y, x] = 4 + rng.normal(0, .5)
    return torch.from_numpy(maps)


def test_disk_decoding_equals_mmocr(mmocr_ref):
    rng = np.random.RandomState(4)
    cases = [(crafted_maps(64, 96, [(16, 4, 10, 5, 70), (44, 6, 14, 20, 90)], rng),
              torch.tensor([1.0, 1.0, 1.0, 1.0])),
             (crafted_maps(48, 48, [(24, 2, 12, 4, 44)], rng),
              torch.tensor([0.5, 0.75, 0.5, 0.75])),
             (crafted_maps(32, 32, [], rng), torch.tensor([1.0, 1.0, 1.0, 1.0]))]
    head_cfg = model_cfg()["bbox_head"]
    theirs = mmocr_ref.call(REF, "decode", head_cfg=head_cfg, cases=cases)
    head = registry.build(registry.COMPONENTS, head_cfg, "model.bbox_head")
    for (maps, scale_factor), ref in zip(cases, theirs):
        ours = head.get_boundary(maps[0], dict(scale_factor=scale_factor.numpy()))
        assert_close(ours["boundary_result"], ref, what="boundaries")
    assert [len(r) for r in theirs] == [2, 1, 0]

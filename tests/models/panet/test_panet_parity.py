"""PANet against MMOCR 0.6.3's own code: module tree and initialisation of the three shipped
configs, losses and gradients, eval maps, PANetTargets' maps, mmcv's compiled pixel_group and
the post-processing built on it, and an MMOCR checkpoint through ``--load-from``."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ocr_ds.config import Config
from ocr_ds.datasets.pipelines.targets.panet import PANetTargets
from ocr_ds.engine.builder import build_model
from ocr_ds.errors import UserError
from ocr_ds.models.textdet.panet.fpem_ffm import FPEM_FFM
from ocr_ds.models.textdet.panet.head import PANHead
from ocr_ds.models.textdet.panet.loss import PANLoss
from ocr_ds.models.textdet.panet.pixel_group import pixel_group
from parity import assert_close, assert_same_init_stats, assert_same_keys, init_stats, ref_file

REF = ref_file(__file__, "mmocr_panet.py")
CONFIGS = {
    "ctw1500": "configs/textdet/panet/panet_r18_fpem_ffm_600e_ctw1500.py",
    "icdar2015": "configs/textdet/panet/panet_r18_fpem_ffm_600e_icdar2015.py",
    "icdar2017": "configs/textdet/panet/panet_r50_fpem_ffm_600e_icdar2017.py",
}


def _cfg(name="icdar2015", backbone=None, neck=None, loss=None):
    cfg = Config.fromfile(CONFIGS[name]).to_dict()["model"]
    cfg["pretrained"] = None
    cfg["backbone"].update(init_cfg=None, **(backbone or {}))
    cfg["neck"].update(neck or {})
    cfg["bbox_head"]["loss"].update(loss or {})
    return cfg


def _targets(size, polys, ignored=(), **args):
    """PANetTargets' (gt_kernels, gt_mask) of one image."""
    results = dict(img=np.zeros((*size, 3), np.uint8), gt_masks=[np.array(p) for p in polys],
                   gt_masks_ignore=[np.array(p) for p in ignored], mask_fields=[])
    results = PANetTargets(**args)(results)
    return torch.from_numpy(results["gt_kernels"]), torch.from_numpy(results["gt_mask"])


def _box(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def _batch(size, samples):
    kernels, masks = zip(*(_targets(size, polys, ignored) for polys, ignored in samples))
    return torch.stack(kernels), torch.stack(masks)


def test_shipped_configs_keys_and_init_equal_mmocr(mmocr_ref):
    # (an MMOCR checkpoint through --load-from: tests/engine/test_load_from.py)
    theirs = mmocr_ref.call(REF, "whole_models", seed=0)
    for name, path in CONFIGS.items():
        assert Config.fromfile(path).to_dict()["model"] == theirs["configs"][name], name
    # the CTW1500 model is the ICDAR 2015 one with 'poly' boundaries
    for name in ("icdar2015", "icdar2017"):
        torch.manual_seed(0)
        model = build_model({"model": _cfg(name)})
        state = model.state_dict()
        assert_same_keys(state, {k: torch.empty(s) for k, s in theirs[name]["shapes"].items()})
        sizes = {k: v.numel() for k, v in state.items()}
        assert_same_init_stats(init_stats(model), theirs[name]["stats"], sizes)


def test_neck_and_head_init_bit_identical(mmocr_ref):
    theirs = mmocr_ref.call(REF, "neck_and_head", seed=3)
    cfg = _cfg()
    torch.manual_seed(3)
    neck = FPEM_FFM(**{k: v for k, v in cfg["neck"].items() if k != "type"})
    head = PANHead(**{k: v for k, v in cfg["bbox_head"].items() if k != "type"})
    neck.init_weights()
    head.init_weights()
    # Xavier-uniform on every neck conv, torch's BN defaults, N(0, 0.01) on the head's conv
    assert_close(neck.state_dict(), theirs["neck"], rtol=0, atol=0, what="FPEM_FFM init")
    assert_close(head.state_dict(), theirs["head"], rtol=0, atol=0, what="PANHead init")


def test_losses_grads_and_maps_equal_mmocr(mmocr_ref):
    # a narrow ResNet-18 (mmdet's ResNet takes base_channels too), MMOCR's neck and head; the
    # embedding losses of the first image take 2 of its 3 texts, drawn from numpy's generator
    name, loss = "icdar2015", dict(speedup_bbox_thr=2)
    backbone = dict(base_channels=16, norm_cfg=dict(type="BN", requires_grad=True))
    neck = dict(in_channels=[16, 32, 64, 128])
    img = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(5))
    gt_kernels, gt_mask = _batch((64, 64), [
        ([_box(4, 8, 60, 24), _box(10, 36, 30, 56), _box(36, 34, 60, 44)], [_box(40, 48, 56, 60)]),
        ([[4, 4, 30, 2, 34, 20, 6, 22], _box(30, 30, 62, 50)], [])])
    theirs = mmocr_ref.call(REF, "train_and_eval", seed=1, name=name, img=img,
                            gt_kernels=gt_kernels, gt_mask=gt_mask, backbone=backbone,
                            neck=neck, loss=loss, np_seed=4)
    model = build_model({"model": _cfg(name, backbone, neck, loss)})
    model.load_state_dict(theirs["state"], strict=True)
    model.train()
    np.random.seed(4)
    losses = model({"img": img, "img_metas": [{}, {}], "gt_kernels": gt_kernels,
                    "gt_mask": gt_mask})
    assert_close(losses, theirs["losses"], what="losses")
    assert all(v > 0 for v in losses.values()), losses
    sum(losses.values()).backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert_close(grads, theirs["grads"], rtol=1e-4, atol=1e-6, what="grad")
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(img))
    assert_close(maps, theirs["maps"], what="eval maps")


def test_loss_equal_mmocr_edge_cases(mmocr_ref):
    gen = torch.Generator().manual_seed(2)
    boxes = [_box(2 + 9 * i, 3 + 7 * (i % 3), 12 + 9 * i, 12 + 7 * (i % 3)) for i in range(6)]
    many, many_mask = _batch((48, 64), [(boxes, [_box(0, 40, 20, 48)]), (boxes[:1], [])])
    empty, empty_mask = _batch((64, 64), [([], []), ([_box(6, 6, 40, 30)], [])])
    # a polygon too thin to survive the 1/4 rescale, one whose kernel vanishes
    thin, thin_mask = _batch((64, 64), [([_box(4, 4, 60, 5), _box(10, 20, 14, 24),
                                          _box(20, 30, 50, 50)], [])] * 2)
    cases = [
        dict(args={}, ratio=0.25, np_seed=0, maps=torch.randn(2, 6, 12, 16, generator=gen),
             gt_kernels=many, gt_mask=many_mask),
        dict(args=dict(speedup_bbox_thr=3, reduction="sum", alpha=0.7, beta=0.5), ratio=0.25,
             np_seed=7, maps=torch.randn(2, 6, 12, 16, generator=gen), gt_kernels=many,
             gt_mask=many_mask),
        dict(args=dict(delta_aggregation=0.2, delta_discrimination=1.0, ohem_ratio=1.5),
             ratio=0.25, np_seed=0, maps=torch.randn(2, 6, 16, 16, generator=gen),
             gt_kernels=empty, gt_mask=empty_mask),
        dict(args={}, ratio=0.25, np_seed=0, maps=torch.randn(2, 6, 16, 16, generator=gen),
             gt_kernels=thin, gt_mask=thin_mask),
        # targets larger than the maps (cropped)
        dict(args={}, ratio=0.25, np_seed=0, maps=torch.randn(2, 6, 14, 14, generator=gen),
             gt_kernels=thin, gt_mask=thin_mask),
    ]
    theirs = mmocr_ref.call(REF, "loss_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        maps = case["maps"].clone().requires_grad_(True)
        np.random.seed(case["np_seed"])
        losses = PANLoss(**case["args"])(maps, case["ratio"], case["gt_kernels"],
                                         case["gt_mask"])
        sum(losses.values()).backward()
        assert_close(losses, ref["losses"], what=f"case {i} losses")
        assert_close(maps.grad, ref["grad"], what=f"case {i} grad")


def _contour(kernel):
    contours, _ = cv2.findContours(kernel.astype(np.uint8) * 255, cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_NONE)
    out = np.zeros(kernel.shape, np.uint8)
    cv2.drawContours(out, contours, -1, 255)
    return out


def _group_case(score, text, kernel, embedding, thr=0.85):
    num, labels = cv2.connectedComponents(kernel.astype(np.uint8), connectivity=4)
    return dict(score=torch.as_tensor(score, dtype=torch.float32),
                mask=torch.as_tensor(text), embedding=torch.as_tensor(embedding),
                labels=torch.from_numpy(labels.astype(np.int32)),
                contour=torch.from_numpy(_contour(kernel)), num=num, thr=thr)


def _random_group_case(seed, size=(40, 52), dim=4, scale=0.6):
    gen = torch.Generator().manual_seed(seed)
    smooth = F.interpolate(torch.randn(1, 2 + dim, size[0] // 4, size[1] // 4, generator=gen),
                           size=size, mode="bilinear", align_corners=False)[0]
    score = torch.sigmoid(smooth[0] * 3 + 1).numpy()
    text = score > 0.5
    kernel = (smooth[1].numpy() > 0.2) & text
    emb = (smooth[2:] * scale + torch.randn(dim, *size, generator=gen) * 0.25)
    return _group_case(score, text, kernel, emb.permute(1, 2, 0).contiguous().numpy())


def _hand_group_cases():
    """Kernels with embedding 0 and text pixels at squared distances a hair either side of
    float32(0.85)^2; two kernels racing for one band; a kernel with a hole; the border."""
    h, w = 20, 30
    text = np.zeros((h, w), bool)
    text[2:18, 2:28] = True
    kernel = np.zeros((h, w), bool)
    kernel[8:12, 6:10] = kernel[8:12, 20:24] = True
    emb = np.zeros((h, w, 4), np.float32)
    t = np.float32(0.85)
    values = [t, np.nextafter(t, np.float32(0)), np.nextafter(t, np.float32(1)),
              np.float32(0.6), np.float32(0.601), np.float32(-0.85)]
    ys, xs = np.nonzero(text & ~kernel)
    for k, (y, x) in enumerate(zip(ys, xs)):
        v = values[k % len(values)]
        emb[y, x, k % 4] = v
        if v in (np.float32(0.6), np.float32(0.601)):
            emb[y, x, (k + 1) % 4] = v
    score = np.linspace(0.5, 1.0, h * w, dtype=np.float32).reshape(h, w)
    racing = np.zeros((h, w, 4), np.float32)      # everything joins: the queue decides
    holed = kernel.copy()
    holed[2:9, 2:9] = True
    holed[4:7, 4:7] = False
    border = np.zeros((h, w), bool)
    border[0:5, 0:30] = True
    return [_group_case(score, text, kernel, emb), _group_case(score, text, kernel, racing),
            _group_case(score, text | holed, holed, racing, thr=0.5),
            _group_case(score, border | text, border, racing + 0.1)]


def test_pixel_group_equal_mmcv_op(mmocr_ref):
    cases = _hand_group_cases() + [_random_group_case(s) for s in range(4)] + [
        _random_group_case(9, size=(33, 21), dim=2, scale=0.3)]
    theirs = mmocr_ref.call(REF, "group_cases", cases=cases)
    grown = 0
    for i, (c, ref) in enumerate(zip(cases, theirs)):
        ours = pixel_group(c["score"].numpy(), c["mask"].numpy(), c["embedding"].numpy(),
                           c["labels"].numpy(), c["contour"].numpy(), c["num"], c["thr"])
        assert ours == [list(r) for r in ref], f"case {i}"
        grown += sum(int(g[1]) for g in ours) - int((c["labels"] > 0).sum())
    assert grown > 500        # the cases do grow kernels


def _pan_maps(texts, size=(40, 56), low=-4.0, high=4.0):
    """Logits and embeddings (6, H, W): each text a box (its kernel 3 pixels inside) whose
    pixels share one embedding."""
    out = torch.full((6, *size), low)
    out[2:] = 0
    for (y0, x0, y1, x1), logit, emb in texts:
        out[0, y0:y1, x0:x1] = logit
        out[1, y0 + 3:y1 - 3, x0 + 3:x1 - 3] = high
        out[2:, y0:y1, x0:x1] = torch.tensor(emb, dtype=torch.float32)[:, None, None]
    return out


def _random_pan_maps(seed, size=(40, 56)):
    gen = torch.Generator().manual_seed(seed)
    out = F.interpolate(torch.randn(1, 6, size[0] // 5, size[1] // 5, generator=gen), size=size,
                        mode="bilinear", align_corners=False)[0]
    out[:2] = out[:2] * 6 + torch.tensor([3.0, 0.5])[:, None, None]
    out[2:] = out[2:] * 0.5
    return out


POST_CASES = [
    dict(args=dict(text_repr_type="poly"), scale_factor=[0.5, 0.8, 0.5, 0.8],
         maps=_pan_maps([((4, 4, 20, 30), 4.0, [1, 0, 0, 0]),
                         ((24, 10, 38, 54), 4.0, [0, 2, 0, 0])])),
    dict(args=dict(text_repr_type="quad"), scale_factor=[1.25, 1.25, 1.25, 1.25],
         maps=_pan_maps([((4, 4, 20, 30), 4.0, [1, 0, 0, 0]),
                         ((24, 10, 38, 54), 4.0, [0, 2, 0, 0])])),
    # two texts touching, with embeddings that tell them apart; a text too unsure to keep
    dict(args=dict(text_repr_type="poly"), scale_factor=[1.0, 1.0, 1.0, 1.0],
         maps=_pan_maps([((4, 4, 30, 30), 4.0, [0, 0, 0, 0]),
                         ((8, 28, 36, 54), 4.0, [3, 0, 0, 0]), ((32, 2, 39, 20), 1.2, [0] * 4)])),
    dict(args=dict(text_repr_type="quad"), scale_factor=[1.0, 1.0, 1.0, 1.0],
         maps=torch.full((6, 16, 16), -3.0)),
    *[dict(args=dict(text_repr_type=kind, min_text_area=area, min_text_avg_confidence=conf),
           scale_factor=[0.7, 0.9, 0.7, 0.9], maps=_random_pan_maps(seed))
      for seed, kind, area, conf in ((1, "poly", 16, 0.85), (2, "quad", 4, 0.6),
                                     (3, "poly", 4, 0.6), (4, "quad", 30, 0.9))],
]


def test_postprocessing_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "postprocess_cases", cases=POST_CASES)
    found = 0
    for i, (case, ref) in enumerate(zip(POST_CASES, theirs)):
        head = PANHead(in_channels=[4], out_channels=6,
                       postprocessor=dict(type="PANPostprocessor", **case["args"]))
        raw = head.postprocessor(case["maps"])
        assert_close(raw, ref["raw"], rtol=0, atol=0, what=f"case {i} boundaries")
        meta = dict(scale_factor=np.array(case["scale_factor"], np.float32))
        rescaled = head.get_boundary(case["maps"], meta)["boundary_result"]
        assert_close(rescaled, ref["rescaled"], what=f"case {i} rescaled")
        found += len(raw)
    assert found >= 8      # the cases do decode texts


CURVE = [18, 30, 30, 22, 46, 18, 62, 18, 78, 22, 90, 30, 98, 40, 86, 48, 76, 38, 62, 32,
         46, 32, 32, 38, 24, 46, 12, 40]          # a CTW1500-style 14-point arc
TARGET_CASES = [
    dict(size=(64, 100), args={}, polys=[CURVE, _box(4, 50, 40, 62), _box(60, 50, 96, 62)],
         ignored=[_box(44, 52, 56, 60)]),
    # overlapping texts (the later label wins), a sliver that vanishes, one partly outside
    dict(size=(48, 48), args=dict(shrink_ratio=(1.0, 0.7)),
         polys=[_box(2, 2, 30, 20), _box(20, 10, 44, 30), _box(5, 40, 40, 41),
                [30, 36, 60, 36, 60, 60, 30, 60]], ignored=[]),
    dict(size=(80, 80), args=dict(shrink_ratio=(1.0, 0.5, 0.3), max_shrink=3),
         polys=[[10, 10, 70, 5, 75, 40, 8, 35], [10.6, 50.4, 70.2, 50.9, 69.5, 75.1, 9.8, 74.6]],
         ignored=[[0, 0, 5, 0, 5, 5]]),
    # concave: two blocks joined by a bar that the 0.5 kernel keeps
    dict(size=(40, 64), args={}, polys=[[2, 2, 22, 2, 22, 11, 32, 11, 32, 2, 58, 2, 58, 30,
                                         32, 30, 32, 13, 22, 13, 22, 22, 2, 22]], ignored=[]),
]


def test_targets_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "target_cases", cases=TARGET_CASES)
    for i, (case, ref) in enumerate(zip(TARGET_CASES, theirs)):
        kernels, mask = _targets(case["size"], case["polys"], case["ignored"],
                                 **case["args"])
        assert kernels.dtype == torch.float32 and mask.dtype == torch.uint8
        assert torch.equal(kernels, ref["gt_kernels"]), f"case {i} gt_kernels"
        assert torch.equal(mask, ref["gt_mask"]), f"case {i} gt_mask"
        assert kernels[0].max() == len(case["polys"])
    # a kernel that splits into pieces of different lengths: MMOCR 0.6.3 raises there on
    # numpy >= 1.24 (a ragged np.array); here the first piece is filled, as on older numpy
    dumbbell = [2, 2, 22, 2, 22, 11, 32, 11, 32, 2, 52, 2, 52, 22, 32, 22, 32, 13, 22, 13, 22,
                22, 2, 22]
    kernels, _ = _targets((40, 64), [dumbbell])
    left, right = kernels[1, :, :27].sum(), kernels[1, :, 27:].sum()
    assert (left > 0) != (right > 0) and kernels[0].sum() > 2 * (left + right)


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UserError, match=r"model.neck.in_channels: expected 4 positive ints"):
        FPEM_FFM(in_channels=[64, 128, 256])
    with pytest.raises(UserError, match=r"model.bbox_head.out_channels: PANLoss needs 6 maps"):
        PANHead(in_channels=[128] * 4, out_channels=7)
    with pytest.raises(UserError, match=r"PANetTargets.shrink_ratio: expected at least 2"):
        PANetTargets(shrink_ratio=(1.0,))
    with pytest.raises(UserError, match=r"model.bbox_head.loss.reduction: expected 'mean'"):
        PANLoss(reduction="max")

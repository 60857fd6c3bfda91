"""PSENet against MMOCR 0.6.3's own code: module tree, initialisation, losses and gradients,
eval maps, post-processing (mmcv's compiled contour_expand) and rescaling."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ocr_ds.config import Config
from ocr_ds.engine.builder import build_model
from ocr_ds.models.textdet.psenet.fpnf import FPNF
from ocr_ds.models.textdet.psenet.head import PSEHead
from ocr_ds.models.textdet.psenet.loss import PSELoss
from ocr_ds.models.textdet.psenet.postprocessor import PSEPostprocessor, contour_expand
from parity import assert_close, assert_same_init_stats, assert_same_keys, init_stats, ref_file

REF = ref_file(__file__, "mmocr_psenet.py")
SHIPPED = "configs/_base_/det_models/psenet_r50_fpnf.py"


pytestmark = pytest.mark.usefixtures("one_thread")


def _cfg(variant="model_quad", backbone=None, neck=None):
    cfg = Config.fromfile(SHIPPED).to_dict()[variant]
    cfg["backbone"].update(init_cfg=None, **(backbone or {}))
    cfg["neck"].update(neck or {})
    return cfg


def _rects(shape, boxes, value=1):
    out = torch.zeros(shape)
    for y0, x0, y1, x1 in boxes:
        out[..., y0:y1, x0:x1] = value
    return out


def test_shipped_config_keys_and_init_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "whole_model", seed=0)
    shipped = Config.fromfile(SHIPPED).to_dict()
    for variant in ("model_quad", "model_poly"):     # style='caffe', as MMOCR 0.6.3's file
        assert shipped[variant] == theirs["configs"][variant], variant
    torch.manual_seed(0)
    model = build_model({"model": _cfg()})
    state = model.state_dict()
    assert_same_keys(state, {k: torch.empty(s) for k, s in theirs["shapes"].items()})
    sizes = {k: v.numel() for k, v in state.items()}
    assert_same_init_stats(init_stats(model), theirs["stats"], sizes)


def test_neck_and_head_init_bit_identical(mmocr_ref):
    theirs = mmocr_ref.call(REF, "neck_and_head", seed=3)
    cfg = _cfg()
    torch.manual_seed(3)
    neck = FPNF(**{k: v for k, v in cfg["neck"].items() if k != "type"})
    head = PSEHead(**{k: v for k, v in cfg["bbox_head"].items() if k != "type"})
    neck.init_weights()
    head.init_weights()
    # FPNF's convs end Kaiming (fan_out), PSEHead's out_conv keeps torch's default init
    assert_close(neck.state_dict(), theirs["neck"], rtol=0, atol=0, what="FPNF init")
    assert_close(head.state_dict(), theirs["head"], rtol=0, atol=0, what="PSEHead init")


def test_losses_grads_and_maps_equal_mmocr(mmocr_ref):
    # a narrow ResNet-50 (MMOCR's mmdet.ResNet takes base_channels too), MMOCR's FPNF and head
    backbone = dict(base_channels=16)
    neck = dict(in_channels=[64, 128, 256, 512])
    gen = torch.Generator().manual_seed(5)
    img = torch.randn(2, 3, 64, 64, generator=gen)
    boxes = [[(8, 4, 24, 60), (36, 10, 56, 30)], [(4, 4, 60, 20), (30, 30, 50, 62)]]
    gt_kernels = torch.stack([torch.stack([_rects((64, 64), [(y0 + k, x0 + k, y1 - k, x1 - k)
                                                            for y0, x0, y1, x1 in b])
                                           for k in range(7)]) for b in boxes])
    gt_mask = torch.ones(2, 64, 64)
    gt_mask[1, 40:48, 36:44] = 0
    theirs = mmocr_ref.call(REF, "train_and_eval", seed=1, img=img, gt_kernels=gt_kernels,
                            gt_mask=gt_mask, backbone=backbone, neck=neck)
    model = build_model({"model": _cfg(backbone=backbone, neck=neck)})
    model.load_state_dict(theirs["state"], strict=True)
    model.train()
    losses = model({"img": img, "img_metas": [{}, {}], "gt_kernels": gt_kernels,
                    "gt_mask": gt_mask})
    assert_close(losses, theirs["losses"], what="losses")
    sum(losses.values()).backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    assert_close(grads, theirs["grads"], rtol=1e-4, atol=1e-6, what="grad")
    model.eval()
    with torch.no_grad():
        maps = model.bbox_head(model.extract_feat(img))
    # 1e-5 of the maps' scale: single elements near 0 differ by float32 rounding
    assert_close(maps, theirs["maps"], atol=1e-5 * float(theirs["maps"].abs().max()),
                 what="eval maps")


def test_loss_equal_mmocr_edge_cases(mmocr_ref):
    gen = torch.Generator().manual_seed(2)

    def kernels(n, h, w):
        return torch.stack([torch.stack([_rects((h, w), [(4 + 2 * k, 6 + 2 * k, h // 2 + 8 - k,
                                                          w - 6 - 2 * k)]) for k in range(3)])
                            for _ in range(n)])

    empty = torch.zeros(2, 3, 64, 64)
    empty[0] = kernels(1, 64, 64)[0]
    cases = [
        dict(args={}, ratio=0.25, maps=torch.randn(2, 3, 16, 16, generator=gen),
             gt_kernels=kernels(2, 64, 64), gt_mask=torch.ones(2, 64, 64)),
        # sizes that are not multiples of 4: OpenCV's nearest rows/columns, then pad
        dict(args={}, ratio=0.25, maps=torch.randn(2, 3, 18, 17, generator=gen),
             gt_kernels=kernels(2, 70, 66), gt_mask=torch.ones(2, 70, 66)),
        dict(args=dict(alpha=0.6, ohem_ratio=1.5), ratio=0.25,
             maps=torch.randn(1, 3, 20, 20, generator=gen), gt_kernels=kernels(1, 75, 77),
             gt_mask=_rects((1, 75, 77), [(0, 0, 75, 60)])),
        # targets larger than the maps (cropped); a sample without text; 'hard', 'sum'
        dict(args=dict(kernel_sample_type="hard", reduction="sum"), ratio=0.25,
             maps=torch.randn(2, 3, 16, 16, generator=gen), gt_kernels=F.pad(empty, (0, 8, 0, 8)), gt_mask=torch.ones(2, 72, 72)),
    ]
    theirs = mmocr_ref.call(REF, "loss_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        maps = case["maps"].clone().requires_grad_(True)
        losses = PSELoss(**case["args"])(maps, case["ratio"], case["gt_kernels"],
                                         case["gt_mask"])
        sum(losses.values()).backward()
        assert_close(losses, ref["losses"], rtol=0, atol=0, what=f"case {i} losses")
        assert_close(maps.grad, ref["grad"], what=f"case {i} grad")


def _pse_maps(texts, size=(48, 64), kernels=7, low=-4.0, high=4.0):
    """Logits (K, H, W): each text a box whose k-th kernel is shrunk by k pixels per side."""
    out = torch.full((kernels, *size), low)
    for (y0, x0, y1, x1), logit in texts:
        for k in range(kernels):
            out[k, y0 + k:y1 - k, x0 + k:x1 - k] = logit if k == 0 else high
    return out


def _random_maps(seed, size=(40, 56), kernels=5):
    """Smooth random logits whose kernels nest only loosely (holes, several seeds per text)."""
    gen = torch.Generator().manual_seed(seed)
    noise = F.interpolate(torch.randn(1, kernels, size[0] // 4, size[1] // 4, generator=gen),
                          size=size, mode="bilinear", align_corners=False)[0]
    return noise * 4 + torch.linspace(2.5, -1.0, kernels)[:, None, None]


POST_CASES = [
    dict(args=dict(text_repr_type="poly"), scale_factor=[0.5, 0.8, 0.5, 0.8],
         maps=_pse_maps([((4, 4, 20, 30), 4.0), ((26, 10, 44, 60), 4.0)])),
    dict(args=dict(text_repr_type="quad"), scale_factor=[1.25, 1.25, 1.25, 1.25],
         maps=_pse_maps([((4, 4, 20, 30), 4.0), ((26, 10, 44, 60), 4.0)])),
    # two texts touching in the text map: the expansion's queue order decides the border
    dict(args=dict(text_repr_type="poly"), scale_factor=[1.0, 1.0, 1.0, 1.0],
         maps=_pse_maps([((6, 4, 30, 34), 4.0), ((10, 27, 40, 60), 4.0)])),
    # too small (area < 16), too unsure (mean < 0.85), an empty map
    dict(args=dict(text_repr_type="poly"), scale_factor=[1.0, 1.0, 1.0, 1.0],
         maps=_pse_maps([((2, 2, 17, 5), 4.0), ((20, 20, 40, 50), 1.5)])),
    dict(args=dict(text_repr_type="quad"), scale_factor=[1.0, 1.0, 1.0, 1.0],
         maps=torch.full((7, 16, 16), -3.0)),
    *[dict(args=dict(text_repr_type=kind, min_kernel_area=area, min_text_area=4,
                     min_text_avg_confidence=0.6), scale_factor=[0.7, 0.9, 0.7, 0.9],
           maps=_random_maps(seed)) for seed, kind, area in
      ((1, "poly", 0), (2, "quad", 0), (3, "poly", 5), (4, "quad", 8))],
]


def test_postprocessing_equal_mmocr(mmocr_ref):
    theirs = mmocr_ref.call(REF, "postprocess_cases", cases=POST_CASES)
    found = 0
    for i, (case, ref) in enumerate(zip(POST_CASES, theirs)):
        head = PSEHead(in_channels=[4], out_channels=7,
                       postprocessor=dict(type="PSEPostprocessor", **case["args"]))
        raw = head.postprocessor(case["maps"])
        assert_close(raw, ref["raw"], rtol=0, atol=0, what=f"case {i} boundaries")
        meta = dict(scale_factor=np.array(case["scale_factor"], np.float32))
        rescaled = head.get_boundary(case["maps"], meta)["boundary_result"]
        assert_close(rescaled, ref["rescaled"], rtol=0, atol=0, what=f"case {i} rescaled")
        found += len(raw)
    assert found > 10      # the cases do decode texts


def test_contour_expand_equal_mmcv_op(mmocr_ref):
    gen = torch.Generator().manual_seed(9)
    cases = []
    for kernels, size, min_area in ((3, (40, 48), 0), (4, (33, 29), 6), (1, (20, 20), 3)):
        noise = F.interpolate(torch.randn(1, kernels, size[0] // 3, size[1] // 3, generator=gen),
                              size=size, mode="bilinear", align_corners=False)[0]
        masks = noise > torch.linspace(-0.3, 0.6, kernels)[:, None, None]
        masks = (masks & masks[0]).to(torch.uint8)
        _, labels = cv2.connectedComponents(masks[-1].numpy(), connectivity=4)
        cases.append((masks, torch.from_numpy(labels.astype(np.int32)), min_area))
    theirs = mmocr_ref.call(REF, "expand_cases", cases=cases)
    for i, ((masks, labels, min_area), ref) in enumerate(zip(cases, theirs)):
        ours = contour_expand(masks.numpy(), labels.numpy(), min_area)
        assert torch.equal(torch.from_numpy(ours).long(), ref.long()), f"case {i}"
        if i < 2:       # several instances meet, and some grow beyond their seeds
            assert ours.max() > 3 and (ours > 0).sum() > 2 * (labels > 0).sum()

"""OCRMaskRCNN against MMOCR 0.6.3 (mmdet 2.28.2's Mask R-CNN, mmcv 1.7.2's ops): RoIAlign and
NMS; keys/shapes of the three configs and a published checkpoint; a narrow model (R18, 16
channels: the same code paths at a fraction of the cost) for seeded initialisation, train
losses and gradients with the samplers seeded alike, and eval boxes, masks and boundaries."""
import copy
import os

import numpy as np
import torch

from ocr_ds import registry
from ocr_ds.checkpoint_io import load_checkpoint_any
from ocr_ds.config import Config
from ocr_ds.models.common.roi_ops import batched_nms, nms, roi_align
from parity import assert_close, assert_close_by_norm, assert_same_keys, ref_file

REF = ref_file(__file__, "mmocr_maskrcnn.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
CONFIGS = [f"textdet/maskrcnn/mask_rcnn_r50_fpn_160e_{d}.py"
           for d in ("ctw1500", "icdar2015", "icdar2017")]
torch.set_num_threads(1)


def load_model_cfg(path):
    cfg = Config.fromfile(os.path.join(REPO, "configs", path)).to_dict()["model"]
    cfg["backbone"].pop("init_cfg", None)
    return cfg


def narrow(cfg, c=16):
    """The config's model with an R18 backbone and ``c``-channel FPN/heads."""
    cfg = copy.deepcopy(cfg)
    cfg["backbone"]["depth"] = 18
    cfg["neck"].update(in_channels=[64, 128, 256, 512], out_channels=c)
    cfg["rpn_head"].update(in_channels=c, feat_channels=c)
    roi = cfg["roi_head"]
    roi["bbox_roi_extractor"]["out_channels"] = c
    roi["mask_roi_extractor"]["out_channels"] = c
    roi["bbox_head"].update(in_channels=c, fc_out_channels=2 * c)
    roi["mask_head"].update(in_channels=c, conv_out_channels=c)
    return cfg


def test_roi_align_and_nms_equal_mmcv(mmocr_ref):
    rng = np.random.RandomState(0)
    feat = torch.from_numpy(rng.normal(0, 1, (2, 3, 13, 17)).astype(np.float32))
    xy = rng.uniform(-20, 70, (40, 2))
    wh = rng.uniform(0, 50, (40, 2))
    wh[:3] = 0                                    # empty RoIs
    rois = np.concatenate([rng.randint(0, 2, (40, 1)), xy, xy + wh], 1)
    rois[3] = [1, -30, -30, -25, -25]             # wholly outside
    rois[4] = [0, 0, 0, 68, 52]                   # the whole map at stride 4
    rois = torch.from_numpy(rois.astype(np.float32))
    cases = [((7, 7), 0.25, 0), ((14, 14), 0.25, 0), ((7, 5), 1.0, 0), ((3, 3), 0.5, 2)]
    cases = [(s, sc, r, torch.from_numpy(rng.normal(0, 1, (40, 3) + s).astype(np.float32)))
             for s, sc, r in cases]
    boxes = rng.uniform(0, 50, (300, 2))
    boxes = torch.from_numpy(np.concatenate([boxes, boxes + rng.uniform(1, 30, (300, 2))],
                                            1).astype(np.float32))
    scores = torch.from_numpy(rng.rand(300).astype(np.float32))
    idxs = torch.from_numpy(rng.randint(0, 3, 300))
    theirs = mmocr_ref.call(REF, "roi_ops", feat=feat, rois=rois, cases=cases, boxes=boxes,
                            scores=scores, idxs=idxs, iou_thr=0.3)
    for (size, scale, ratio, grad), ref in zip(cases, theirs["roi"]):
        x = feat.clone().requires_grad_()
        y = roi_align(x, rois, size, scale, ratio)
        (y * grad).sum().backward()
        assert_close(y, ref["out"], what=f"roi_align {size} x{scale} s{ratio}")
        assert_close(x.grad, ref["grad"], what=f"roi_align grad {size} x{scale} s{ratio}")
    dets, keep = nms(boxes, scores, 0.3)
    assert torch.equal(keep, theirs["nms"]["keep"]) and torch.equal(dets, theirs["nms"]["dets"])
    dets, keep = batched_nms(boxes, scores, idxs, dict(type="nms", iou_threshold=0.3))
    assert torch.equal(keep, theirs["batched"]["keep"])
    assert torch.equal(dets, theirs["batched"]["dets"])


def test_configs_keys_and_published_checkpoint(mmocr_ref, tmp_path):
    shapes = mmocr_ref.call(REF, "config_state", configs=CONFIGS)
    for path in CONFIGS:
        model = registry.build(registry.MODELS, load_model_cfg(path), "model")
        assert_same_keys(model.state_dict(), {k: torch.empty(v) for k, v in shapes[path].items()})
    ckpt = mmocr_ref.call(REF, "publish", config=CONFIGS[1],
                          checkpoint=str(tmp_path / "maskrcnn.pth"))
    state, _ = load_checkpoint_any(ckpt)
    result = model.load_state_dict(state, strict=False)
    assert not result.missing_keys and not result.unexpected_keys, result


def batch_of(rng):
    """Three images (the second's content 90x120 inside a 96x128 pad, the third without
    text: a crop that cut every instance away) with text boxes/masks."""
    img = torch.from_numpy(rng.normal(0, 1, (3, 3, 96, 128)).astype(np.float32))
    metas = [dict(img_shape=(96, 128, 3), pad_shape=(96, 128, 3)),
             dict(img_shape=(90, 120, 3), pad_shape=(96, 128, 3)),
             dict(img_shape=(96, 128, 3), pad_shape=(96, 128, 3))]
    boxes = [np.array([[10, 20, 80, 44], [30, 50, 120, 90], [4, 60, 20, 70]], np.float32),
             np.array([[5, 5, 60, 40]], np.float32), np.zeros((0, 4), np.float32)]
    masks = []
    for b in boxes:
        m = np.zeros((len(b), 96, 128), np.uint8)
        for i, (x1, y1, x2, y2) in enumerate(b.astype(int)):
            m[i, y1:y2, x1:x2] = 1
            m[i, y1:(y1 + y2) // 2, x1:(x1 + x2) // 2] = 0      # not a box: an L shape
        masks.append(m)
    labels = [np.zeros(len(b), np.int64) for b in boxes]
    return img, metas, boxes, labels, masks


def test_narrow_model_equals_mmocr(mmocr_ref):
    cfg = narrow(load_model_cfg(CONFIGS[1]))
    img, metas, boxes, labels, masks = batch_of(np.random.RandomState(1))
    test_meta = dict(img_shape=(96, 128, 3), ori_shape=(120, 160, 3), pad_shape=(96, 128, 3),
                     scale_factor=np.array([0.8, 0.8, 0.8, 0.8], np.float32))
    theirs = mmocr_ref.call(
        REF, "model_run", cfg=cfg, seed=5, sample_seed=7, img=img, metas=metas,
        gt_bboxes=[torch.from_numpy(b) for b in boxes],
        gt_labels=[torch.from_numpy(lab) for lab in labels],
        gt_masks=[torch.from_numpy(m) for m in masks], test_meta=test_meta)

    torch.manual_seed(5)
    model = registry.build(registry.MODELS, cfg, "model")
    model.init_weights()
    state = model.state_dict()
    assert_same_keys(state, theirs["state"])
    bad = [k for k in state if not torch.equal(state[k], theirs["state"][k])]
    assert not bad, f"seeded init differs from MMOCR's in {len(bad)} tensors: {bad[:6]}"

    model.train()
    torch.manual_seed(7)
    losses = model(dict(img=img, img_metas=metas, gt_bboxes=boxes, gt_labels=labels,
                        gt_masks=masks))
    assert_close(losses, theirs["losses"], what="train losses")
    from ocr_ds.engine.runner import parse_losses
    parse_losses(losses)[0].backward()
    grads = {k: p.grad for k, p in model.named_parameters() if p.grad is not None}
    # the box head's shared FCs sum ~1000 RoIs' nearly cancelling terms: our own float32
    # gradients differ from float64's (or 1 thread's from 2 threads') by 6e-4 there (measured)
    assert_close_by_norm(grads, theirs["grads"], rtol=2e-3, atol=1e-7, what="gradients")

    model.eval()
    with torch.no_grad():
        raw = model.simple_test(img[:1], [test_meta], rescale=True)[0]
        out = model(dict(img=img[:1], img_metas=[test_meta]), return_loss=False)
    assert_close([torch.from_numpy(b) for b in raw[0]], theirs["bboxes"], rtol=1e-4,
                 atol=1e-4, what="eval boxes")
    segms = [torch.from_numpy(np.stack(s)) if len(s) else torch.zeros((0,)) for s in raw[1]]
    assert len(raw[0][0]) > 10
    assert [torch.equal(a, b) for a, b in zip(segms, theirs["segms"])] == [True]
    assert_close(out[0]["boundary_result"], theirs["boundaries"], rtol=1e-4, atol=1e-4,
                 what="boundaries")

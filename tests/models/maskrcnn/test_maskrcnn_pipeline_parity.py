"""MMOCR 0.6.3's Mask R-CNN training pipeline (mmdet's LoadAnnotations with bitmap masks,
ScaleAspectJitter, RandomFlip, Normalize, RandomCropInstances on instance masks, Pad,
DefaultFormatBundle, Collect) against ours: the same sample and numpy seed give MMOCR's
image, boxes, labels, masks and metas."""
import copy
import os

import numpy as np
import torch

from ocr_ds.config import Config
from ocr_ds.datasets.pipelines.compose import Compose
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_maskrcnn.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


def config_steps():
    cfg = Config.fromfile(os.path.join(
        REPO, "configs/textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py")).to_dict()
    steps = cfg["data"]["train"]["pipeline"]
    assert steps[0]["type"] == "LoadImageFromFile"
    return steps[1:]


def small(steps):
    """The same steps at sizes that make more of the crops cut text (and run fast)."""
    steps = copy.deepcopy(steps)
    for s in steps:
        if s["type"] == "ScaleAspectJitter":
            s["scale_range"] = (90, 260)
        if s["type"] == "RandomCropInstances":
            s["target_size"] = (64, 80)
    return steps


def sample():
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (100, 130, 3)).astype(np.uint8)
    polys = [np.array([10, 10, 60, 14, 58, 30, 12, 26], np.float32),
             np.array([70.5, 40, 120, 42, 118.5, 70, 72, 66.5], np.float32),
             np.array([5, 80, 40, 78, 44, 95, 6, 97], np.float32),
             np.array([90, 5, 136, 5, 136, 20], np.float32)]     # past the border
    bboxes = np.array([[p[0::2].min(), p[1::2].min(), p[0::2].max(), p[1::2].max()]
                       for p in polys], np.float32)
    return img, bboxes, np.zeros(len(polys), np.int64), polys


def ours(steps, img, bboxes, labels, polys, seed):
    h, w = img.shape[:2]
    res = dict(img=img.copy(), img_shape=img.shape, ori_shape=img.shape, filename="x.jpg",
               ori_filename="x.jpg", img_fields=["img"],
               img_info=dict(filename="x.jpg", height=h, width=w),
               ann_info=dict(bboxes=bboxes.copy(), labels=labels.copy(),
                             masks=[[p.tolist()] for p in polys],
                             bboxes_ignore=np.zeros((0, 4), np.float32), masks_ignore=[]),
               bbox_fields=[], mask_fields=[], seg_fields=[])
    np.random.seed(seed)
    return Compose(steps)(res)


def test_train_pipeline_equals_mmocr(mmocr_ref):
    img, bboxes, labels, polys = sample()
    uncropped = [s for s in small(config_steps()) if s["type"] != "RandomCropInstances"]
    cases = [(config_steps(), [0, 1]), (small(config_steps()), list(range(10))),
             (uncropped, [0, 1])]      # the resize's own clipping of a box past the border
    dropped = flipped = 0
    for steps, seeds in cases:
        theirs = mmocr_ref.call(REF, "train_pipeline", steps=steps, img=torch.from_numpy(img),
                                bboxes=torch.from_numpy(bboxes), labels=torch.from_numpy(labels),
                                polys=[torch.from_numpy(p) for p in polys], seeds=seeds)
        for seed, ref in zip(seeds, theirs):
            out = ours(steps, img, bboxes, labels, polys, seed)
            what = f"seed {seed}, scale_range {steps[1]['scale_range']}"
            assert_close(out["img"], ref["img"], rtol=0, atol=1e-5, what=f"{what} image")
            assert_close(torch.from_numpy(out["gt_bboxes"]), ref["gt_bboxes"], rtol=1e-6,
                         atol=1e-4, what=f"{what} boxes")
            assert np.asarray(out["gt_labels"]).tolist() == ref["gt_labels"].tolist(), what
            assert torch.equal(torch.from_numpy(out["gt_masks"]).to(ref["gt_masks"].dtype),
                               ref["gt_masks"]), f"{what} masks"
            metas = {k: out["img_metas"][k] for k in ref["metas"]}
            assert_close({k: torch.as_tensor(np.asarray(v)) for k, v in metas.items()},
                         {k: torch.as_tensor(np.asarray(v)) for k, v in ref["metas"].items()},
                         what=f"{what} metas")
            dropped += len(ref["gt_labels"]) < len(polys)
            flipped += bool(ref["metas"]["flip"])
    assert dropped >= 3 and flipped >= 3                 # both branches were taken


def test_test_pipelines_equal_mmocr(mmocr_ref):
    """CTW1500's (1600) and ICDAR's (1920) keep-ratio test views: image and metas."""
    img = sample()[0]
    for name in ("ctw1500", "icdar2015"):
        cfg = Config.fromfile(os.path.join(
            REPO, f"configs/textdet/maskrcnn/mask_rcnn_r50_fpn_160e_{name}.py")).to_dict()
        steps = cfg["data"]["test"]["pipeline"][1:]
        theirs = mmocr_ref.call(REF, "test_pipeline", steps=steps, img=torch.from_numpy(img))
        res = dict(img=img.copy(), img_shape=img.shape, ori_shape=img.shape, filename="x.jpg",
                   ori_filename="x.jpg", img_fields=["img"])
        out = Compose(steps)(res)
        assert_close(out["img"], theirs["img"], rtol=0, atol=1e-5, what=f"{name} image")
        metas = {k: torch.as_tensor(np.asarray(out["img_metas"][k], dtype=np.float64))
                 for k in theirs["metas"]}
        assert_close(metas, {k: torch.as_tensor(np.asarray(v, dtype=np.float64))
                             for k, v in theirs["metas"].items()}, what=f"{name} metas")

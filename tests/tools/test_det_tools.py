"""gen_det_data (determinism, both annotation forms) and infer_det (JSON + PNG outputs)."""
import filecmp
import json
import os

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.errors import UserError
from ocr_ds.tools import gen_det_data, infer_det


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


def test_generator_is_deterministic_and_writes_both_forms(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    gen_det_data.main([str(a), "--num-train", "3", "--num-test", "2", "--seed", "7",
                       "--size", "96"])
    gen_det_data.generate(str(b), 3, 2, seed=7, size=96)
    gen_det_data.generate(str(c), 1, 2, seed=7, size=96)
    files = tree(a)
    assert files == tree(b)
    assert {"instances_training.json", "instances_test.json", "meta.json",
            "imgs/training/img_3.jpg", "imgs/test/img_2.jpg",
            "annotations/training/gt_img_1.txt", "annotations/test/gt_img_2.txt"} <= set(files)
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
    # the test split does not depend on the number of training scenes
    assert filecmp.cmp(a / "imgs/test/img_1.jpg", c / "imgs/test/img_1.jpg", shallow=False)
    assert not filecmp.cmp(a / "imgs/training/img_1.jpg", a / "imgs/training/img_2.jpg",
                           shallow=False)
    # the COCO JSON and the ICDAR txt files describe the same boxes
    coco = json.loads((a / "instances_training.json").read_text())
    assert coco["images"][0] == dict(id=0, file_name="training/img_1.jpg", height=96, width=96)
    lines = (a / "annotations/training/gt_img_1.txt").read_text().splitlines()
    anns = [x for x in coco["annotations"] if x["image_id"] == 0]
    assert len(lines) == len(anns) >= 1
    for line, x in zip(lines, anns):
        parts = line.split(",")
        assert [float(v) for v in parts[:8]] == x["segmentation"][0]
        assert x["iscrowd"] == (parts[8] == "###")
        pts = np.array(x["segmentation"][0]).reshape(-1, 2)
        assert pts.min() >= 0 and pts.max() <= 96
    assert not gen_det_data.ensure_generated(str(a), num_train=3, num_test=2, seed=7, size=96)
    with pytest.raises(UserError, match="size"):
        gen_det_data.generate(str(tmp_path / "d"), 1, 1, size=10)


def test_curved_option_writes_ctw1500_style_polygons(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    gen_det_data.main([str(a), "--num-train", "4", "--num-test", "1", "--seed", "2",
                       "--size", "160", "--curved"])
    gen_det_data.generate(str(b), 4, 1, seed=2, size=160, curved=True)
    assert tree(a) == tree(b) and all(filecmp.cmp(a / f, b / f, shallow=False)
                                      for f in tree(a))
    assert not (a / "annotations").exists()          # ICDAR 2015 txt holds quadrilaterals
    coco = json.loads((a / "instances_training.json").read_text())
    anns = coco["annotations"]
    assert len(anns) >= 6
    bent = 0
    for x in anns:
        pts = np.array(x["segmentation"][0]).reshape(-1, 2)
        assert pts.shape == (14, 2) and pts.min() >= 0 and pts.max() <= 160
        top, bottom = pts[:7], pts[7:][::-1]
        # the top side runs along the text and stays above (before rotation) the bottom one
        assert np.linalg.norm(top[-1] - top[0]) > np.linalg.norm(bottom[0] - top[0])
        # bent: the middle of the top side is off the chord between its ends
        chord = top[-1] - top[0]
        off = abs(np.cross(chord, top[3] - top[0])) / np.linalg.norm(chord)
        bent += off > 2
    assert 0 < bent < len(anns)
    assert any(" " in x["text"] for x in anns)         # lines of several words
    assert json.loads((a / "meta.json").read_text())["curved"] is True
    assert not gen_det_data.ensure_generated(str(a), num_train=4, num_test=1, seed=2,
                                             size=160, curved=True)
    # the default scenes are not the curved ones (and their meta does not mention it)
    assert "curved" not in gen_det_data._meta(1, 1, 0, 160, False)


def tiny_config():
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
    return dict(
        model=dict(type="DBNet",
                   backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, norm_eval=False,
                                 init_cfg=dict(type="Pretrained", checkpoint="/no/such.pth")),
                   neck=dict(type="FPNC", in_channels=[8, 16, 32, 64], lateral_channels=8,
                             out_channels=4),
                   bbox_head=dict(type="DBHead", in_channels=16,
                                  loss=dict(type="DBLoss", alpha=5.0, beta=10.0, bbce_loss=True),
                                  postprocessor=dict(type="DBPostprocessor", mask_thr=0.0,
                                                     min_text_score=0.0))),
        data=dict(test=dict(type="UniformConcatDataset", datasets=[], pipeline=[
            dict(type="LoadImageFromFile"),
            dict(type="MultiScaleFlipAug", img_scale=(128, 64), flip=False, transforms=[
                dict(type="Resize", keep_ratio=True), dict(type="Normalize", **norm),
                dict(type="Pad", size_divisor=32), dict(type="ImageToTensor", keys=["img"]),
                dict(type="Collect", keys=["img"])])])))


def test_infer_det_writes_json_and_png(tmp_path, capsys):
    torch.manual_seed(0)
    cfg = tiny_config()
    model_cfg = infer_det.strip_pretrained(cfg["model"])   # the random weights to save
    model = registry.build(registry.MODELS, model_cfg, "model")
    ckpt = tmp_path / "det.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(config=cfg)), ckpt)
    images = []
    for name, shape in (("a.jpg", (40, 70, 3)), ("b.png", (33, 33, 3))):
        cv2.imwrite(str(tmp_path / name), np.random.randint(0, 255, shape).astype(np.uint8))
        images.append(str(tmp_path / name))
    out = tmp_path / "out"
    assert infer_det.main([str(ckpt), *images, "--out-dir", str(out), "--score-thr", "0"]) == 0
    assert sorted(os.listdir(out)) == ["a.json", "a.png", "b.json", "b.png"]
    res = json.loads((out / "a.json").read_text())
    assert res["filename"] == images[0] and isinstance(res["boundaries"], list)
    assert res["boundaries"], "a score threshold of 0 keeps the random model's regions"
    for b in res["boundaries"]:
        assert len(b["points"]) >= 4 and 0 <= b["score"] <= 1
    assert cv2.imread(str(out / "a.png")).shape == (40, 70, 3)
    assert "a.jpg: " in capsys.readouterr().out


CURVED_MODELS = {
    "FCENet": dict(
        type="FCENet",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, out_indices=(1, 2, 3),
                      norm_eval=False),
        neck=dict(type="mmdet.FPN", in_channels=[16, 32, 64], out_channels=8, num_outs=3,
                  add_extra_convs="on_output", relu_before_extra_convs=True, act_cfg=None),
        bbox_head=dict(type="FCEHead", in_channels=8, scales=(8, 16, 32),
                       postprocessor=dict(type="FCEPostprocessor", text_repr_type="poly",
                                          num_reconstr_points=20, score_thr=0.0))),
    "TextSnake": dict(
        type="TextSnake",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, norm_eval=False,
                      style="caffe"),
        neck=dict(type="FPN_UNet", in_channels=[8, 16, 32, 64], out_channels=8),
        bbox_head=dict(type="TextSnakeHead", in_channels=8)),
    "DRRG": dict(
        type="DRRG",
        backbone=dict(type="mmdet.ResNet", depth=18, base_channels=8, norm_eval=False,
                      style="caffe"),
        neck=dict(type="FPN_UNet", in_channels=[8, 16, 32, 64], out_channels=8),
        bbox_head=dict(type="DRRGHead", in_channels=8,
                       postprocessor=dict(type="DRRGPostprocessor", link_thr=0.8))),
}


@pytest.mark.parametrize("name", sorted(CURVED_MODELS))
def test_infer_det_with_the_curved_text_detectors(name, tmp_path):
    torch.manual_seed(0)
    cfg = dict(tiny_config(), model=CURVED_MODELS[name])
    model = registry.build(registry.MODELS, cfg["model"], "model")
    model.init_weights()
    ckpt = tmp_path / "det.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(config=cfg)), ckpt)
    # small: at score_thr 0 every pixel of every level proposes a polygon for the NMS
    cv2.imwrite(str(tmp_path / "a.jpg"), np.random.randint(0, 255, (24, 32, 3)).astype(np.uint8))
    out = tmp_path / "out"
    assert infer_det.main([str(ckpt), str(tmp_path / "a.jpg"), "--out-dir", str(out),
                           "--score-thr", "0"]) == 0
    res = json.loads((out / "a.json").read_text())
    if name == "FCENet":
        assert res["boundaries"] and all(len(b["points"]) == 20 for b in res["boundaries"])
    assert cv2.imread(str(out / "a.png")).shape == (24, 32, 3)


def test_infer_det_errors(tmp_path):
    model = registry.build(registry.MODELS, infer_det.strip_pretrained(tiny_config()["model"]),
                           "model")
    bare = tmp_path / "bare.pth"
    torch.save(model.state_dict(), bare)
    with pytest.raises(UserError, match="give --config"):
        infer_det.main([str(bare), "x.jpg", "--out-dir", str(tmp_path)])
    with pytest.raises(UserError, match="does not exist"):
        infer_det.main([str(tmp_path / "none.pth"), "x.jpg", "--out-dir", str(tmp_path)])

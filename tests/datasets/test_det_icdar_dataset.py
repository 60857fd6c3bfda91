"""IcdarDataset (COCO JSON and native ICDAR txt), the txt parser and the converter CLI."""
import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.textdet.icdar_txt import icdar_dir_to_coco, parse_icdar_txt
from ocr_ds.errors import UserError
from ocr_ds.tools import icdar_to_coco

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
TRAIN_PIPELINE = [
    dict(type="LoadImageFromFile"),
    dict(type="LoadTextAnnotations", with_bbox=True, with_mask=True, poly2mask=False),
    dict(type="ColorJitter", brightness=32.0 / 255, saturation=0.5),
    dict(type="Normalize", **NORM),
    dict(type="ImgAug", args=[["Fliplr", 0.5], dict(cls="Affine", rotate=[-10, 10]),
                              ["Resize", [0.5, 3.0]]]),
    dict(type="EastRandomCrop", target_size=(64, 64)),
    dict(type="DBNetTargets", shrink_ratio=0.4),
    dict(type="Pad", size_divisor=32),
    dict(type="CustomFormatBundle", keys=["gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask"]),
    dict(type="Collect", keys=["img", "gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask"]),
]
TEST_PIPELINE = [
    dict(type="LoadImageFromFile"),
    dict(type="MultiScaleFlipAug", img_scale=(1333, 96), flip=False, transforms=[
        dict(type="Resize", keep_ratio=True), dict(type="Normalize", **NORM),
        dict(type="Pad", size_divisor=32), dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])]),
]


def ann(i, img, poly, crowd=0, area=None):
    xs, ys = poly[0::2], poly[1::2]
    bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return dict(id=i, image_id=img, category_id=1, bbox=bbox, segmentation=[poly],
                area=bbox[2] * bbox[3] if area is None else area, iscrowd=crowd)


@pytest.fixture
def coco_dir(tmp_path):
    imgs = tmp_path / "imgs" / "training"
    imgs.mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(imgs / f"img_{i + 1}.jpg"), np.full((48, 64, 3), 40 * i, np.uint8))
    coco = dict(
        images=[dict(id=i, file_name=f"training/img_{i + 1}.jpg", height=48, width=64)
                for i in range(3)],
        annotations=[ann(0, 0, [4, 4, 40, 4, 40, 20, 4, 20]),
                     ann(1, 0, [42, 30, 60, 30, 60, 44, 42, 44], crowd=1),
                     ann(2, 0, [1, 1, 5, 1, 5, 5, 1, 5], area=0),          # dropped
                     ann(3, 0, [1, 1, 1.5, 1, 1.5, 9, 1, 9]),               # w < 1: dropped
                     ann(4, 1, [10, 10, 50, 10, 50, 30, 10, 30])],          # image 2: none
        categories=[dict(id=1, name="text")])
    (tmp_path / "instances_training.json").write_text(json.dumps(coco))
    return tmp_path


def build(root, pipeline, **kw):
    return registry.build(registry.DATASETS, dict(
        type="IcdarDataset", ann_file=str(root / "instances_training.json"),
        img_prefix=str(root / "imgs"), pipeline=pipeline, **kw), "data.train")


def test_annotations_parsed_as_mmocr(coco_dir):
    ds = build(coco_dir, [], test_mode=True)
    assert len(ds) == 3
    info = ds.get_ann_info(0)
    assert info["bboxes"].tolist() == [[4, 4, 40, 20]]
    assert info["bboxes_ignore"].tolist() == [[42, 30, 60, 44]]
    assert info["masks"] == [[[4, 4, 40, 4, 40, 20, 4, 20]]]
    assert len(info["masks_ignore"]) == 1 and info["labels"].tolist() == [0]
    # training leaves out the image without annotations; select_first_k keeps the first k
    assert len(build(coco_dir, [])) == 2
    assert len(build(coco_dir, [], test_mode=True, select_first_k=2)) == 2


def test_training_samples_and_batches(coco_dir):
    np.random.seed(0)
    ds = build(coco_dir, TRAIN_PIPELINE)
    batch = collate([ds[0], ds[1]])
    assert batch["img"].shape == (2, 3, 64, 64) and batch["img"].dtype == torch.float32
    for key in ("gt_shrink", "gt_shrink_mask", "gt_thr", "gt_thr_mask"):
        assert batch[key].shape == (2, 64, 64)
    assert len(batch["img_metas"]) == 2


def test_test_samples_and_evaluate(coco_dir):
    ds = build(coco_dir, TEST_PIPELINE, test_mode=True)
    sample = ds[0]
    assert sample["img"].shape == (3, 96, 128)
    assert sample["img_metas"]["scale_factor"].tolist() == [2.0] * 4
    perfect = [dict(boundary_result=[[4, 4, 40, 4, 40, 20, 4, 20, 0.9]]),
               dict(boundary_result=[[10, 10, 50, 10, 50, 30, 10, 30, 0.8]]),
               dict(boundary_result=[])]
    assert ds.evaluate(perfect, metric="hmean-iou") == {
        "hmean-iou:recall": 1.0, "hmean-iou:precision": 1.0, "hmean-iou:hmean": 1.0}
    with pytest.raises(UserError, match="2 results for 3 images"):
        ds.evaluate(perfect[:2])


def test_missing_images(coco_dir):
    os.remove(coco_dir / "imgs" / "training" / "img_1.jpg")
    np.random.seed(0)
    train = build(coco_dir, TRAIN_PIPELINE)
    assert train[0]["img_metas"]["ori_filename"] == "training/img_2.jpg"   # skipped to another
    with pytest.raises(UserError, match="img_1.jpg"):
        build(coco_dir, TRAIN_PIPELINE, skip_invalid=False)[0]
    with pytest.raises(UserError, match="img_1.jpg"):
        build(coco_dir, TEST_PIPELINE, test_mode=True)[0]
    with pytest.raises(UserError, match="file not found"):
        registry.build(registry.DATASETS, dict(type="IcdarDataset", ann_file="nope.json"), "d")


@pytest.fixture
def icdar_dir(tmp_path):
    img_dir, gt_dir = tmp_path / "imgs", tmp_path / "gts"
    img_dir.mkdir()
    gt_dir.mkdir()
    for i in (1, 2, 10):
        cv2.imwrite(str(img_dir / f"img_{i}.jpg"), np.zeros((30, 40, 3), np.uint8))
    (gt_dir / "gt_img_1.txt").write_bytes(
        "\ufeff1,2,30,2,30,12,1,12,Hello, world\n5,14,20,14,20,25,5,25,###\n\n".encode("utf-8"))
    (gt_dir / "gt_img_2.txt").write_text("0,0,10,0,10,10,0,10,né\n", encoding="utf-8")
    (gt_dir / "gt_img_10.txt").write_text("", encoding="utf-8")
    return tmp_path


def test_parse_icdar_txt(icdar_dir):
    rows = parse_icdar_txt(str(icdar_dir / "gts" / "gt_img_1.txt"))
    assert rows == [([1, 2, 30, 2, 30, 12, 1, 12], "Hello, world"),
                    ([5, 14, 20, 14, 20, 25, 5, 25], "###")]
    bad = icdar_dir / "bad.txt"
    bad.write_text("1,2,3,4,5,6,7,x,word\n")
    with pytest.raises(UserError, match="bad.txt:1"):
        parse_icdar_txt(str(bad))


def test_native_icdar_directory_and_converter(icdar_dir, capsys):
    coco = icdar_dir_to_coco(str(icdar_dir / "imgs"), str(icdar_dir / "gts"), "training/")
    assert [im["file_name"] for im in coco["images"]] == [
        "training/img_1.jpg", "training/img_2.jpg", "training/img_10.jpg"]
    assert [a["iscrowd"] for a in coco["annotations"]] == [0, 1, 0]
    assert coco["annotations"][0]["bbox"] == [1, 2, 29, 10]
    out = icdar_dir / "out.json"
    assert icdar_to_coco.main([str(icdar_dir / "imgs"), str(icdar_dir / "gts"), str(out)]) == 0
    assert "3 images, 3 annotations (1 don't care)" in capsys.readouterr().out
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["annotations"][2]["text"] == "né"
    # the dataset reads the txt directory directly, with the same result as the JSON
    from_dir = registry.build(registry.DATASETS, dict(
        type="IcdarDataset", ann_file=str(icdar_dir / "gts"), img_prefix=str(icdar_dir / "imgs"),
        test_mode=True), "d")
    from_json = registry.build(registry.DATASETS, dict(
        type="IcdarDataset", ann_file=str(out), img_prefix=str(icdar_dir / "imgs"),
        test_mode=True), "d")
    def polygons(ds):
        return [(a["masks"], a["masks_ignore"]) for a in ds.eval_infos()[1]]

    assert polygons(from_dir) == polygons(from_json)
    assert [ign for _, ign in polygons(from_dir)] == [
        [[[5.0, 14.0, 20.0, 14.0, 20.0, 25.0, 5.0, 25.0]]], [], []]


def test_converter_cli_reports_errors(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "ocr_ds.tools.icdar_to_coco", str(tmp_path / "x"),
                           str(tmp_path), str(tmp_path / "o.json")], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=REPO), cwd=REPO)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: image directory not found")

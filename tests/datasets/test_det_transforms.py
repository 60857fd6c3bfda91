"""Detection pipeline steps move image, polygons and target maps together."""
import cv2
import numpy as np
import pytest
import torch

from ocr_ds.datasets.pipelines.textdet_color import ColorJitter
from ocr_ds.datasets.pipelines.textdet_crop import EastRandomCrop, RandomCropInstances
from ocr_ds.datasets.pipelines.textdet_formatting import CustomFormatBundle, MultiScaleFlipAug
from ocr_ds.datasets.pipelines.textdet_geometry import (Pad, RandomFlip, RandomRotateTextDet,
                                                        Resize, ScaleAspectJitter)
from ocr_ds.datasets.pipelines.textdet_poly_aug import RandomScaling
from ocr_ds.datasets.pipelines.textdet_imgaug import ImgAug
from ocr_ds.datasets.pipelines.textdet_loading import LoadTextAnnotations
from ocr_ds.errors import UserError

POLY = np.array([30, 20, 90, 30, 85, 55, 25, 45], np.float32)


def scene(h=80, w=120):
    """An image whose white region is POLY, a map equal to it, and the polygon itself."""
    img = np.zeros((h, w, 3), np.uint8)
    cv2.fillPoly(img, [POLY.reshape(-1, 2).astype(np.int32)], (255, 255, 255))
    return dict(img=img, img_shape=img.shape, img_fields=["img"], gt_masks=[POLY.copy()],
                gt_masks_ignore=[], mask_fields=["gt_masks", "gt_masks_ignore"],
                gt_bboxes=np.array([[25, 20, 90, 55]], np.float32), bbox_fields=["gt_bboxes"],
                gt_map=(img[..., 0] > 0).astype(np.uint8), seg_fields=["gt_map"])


def aligned(res, min_iou=0.85):
    """IoU of the (transformed) white image region and the rasterised transformed polygon."""
    img = res["img"]
    white = img[..., 0] > 127
    drawn = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(drawn, [np.round(res["gt_masks"][0].reshape(-1, 2)).astype(np.int32)], 1)
    inter = (white & (drawn > 0)).sum()
    union = (white | (drawn > 0)).sum()
    assert inter / union > min_iou, inter / union
    mask = res["gt_map"] > 0
    assert (mask & white).sum() / (mask | white).sum() > 0.9
    assert res["img_shape"] == img.shape


@pytest.mark.parametrize("step", [
    RandomFlip(flip_ratio=1.0), RandomFlip(flip_ratio=1.0, direction="vertical"),
    RandomRotateTextDet(rotate_ratio=1.0, max_angle=25),
    ImgAug([["Fliplr", 1.0], dict(cls="Affine", rotate=[15, 20]), ["Resize", [1.5, 2.0]]]),
    ImgAug([["Flipud", 1.0], ["Rotate", [-20, -15]]]),
    Resize(img_scale=(300, 200), keep_ratio=True),
    Resize(img_scale=(100, 50), keep_ratio=False),
    ScaleAspectJitter(img_scale=[(3000, 64)], ratio_range=(0.5, 3), aspect_ratio_range=(0.8, 1.2),
                      resize_type="around_min_img_scale"),
    ScaleAspectJitter(ratio_range=(0.5, 3), long_size_bound=200, short_size_bound=100,
                      resize_type="long_short_bound"),
    RandomScaling(size=200, scale=(0.8, 1.2)),
    EastRandomCrop(target_size=(96, 96)),
], ids=lambda s: type(s).__name__)
def test_geometric_steps_keep_annotations_aligned(step):
    np.random.seed(0)
    for _ in range(3):
        aligned(step(scene()))


def test_flip_conventions_and_boxes():
    res = RandomFlip(flip_ratio=1.0)(scene())
    assert res["flip"] is True and res["flip_direction"] == "horizontal"
    assert res["gt_masks"][0][0] == pytest.approx(120 - 30)
    assert res["gt_bboxes"].tolist() == [[30, 20, 95, 55]]
    res = RandomFlip(flip_ratio=0.0)(scene())
    assert res["flip"] is False and res["gt_masks"][0][0] == 30


def test_resize_records_scale_factor():
    res = Resize(keep_ratio=True)(dict(scene(), scale=(1333, 160)))
    assert res["img"].shape == (160, 240, 3)
    assert res["scale_factor"].tolist() == [2.0, 2.0, 2.0, 2.0]
    with pytest.raises(UserError, match="img_scale"):
        Resize()(scene())


def test_pad_to_divisor_pads_maps_with_zero():
    res = scene(70, 100)
    res["gt_stack"] = np.ones((3, 70, 100), np.uint8)
    res["seg_fields"].append("gt_stack")
    out = Pad(size_divisor=32)(res)
    assert out["img"].shape == (96, 128, 3) and out["pad_shape"] == (96, 128, 3)
    assert out["gt_stack"].shape == (3, 96, 128) and out["gt_stack"][:, 80:].sum() == 0
    assert Pad(size=(100, 150))(scene(70, 100))["img"].shape == (100, 150, 3)
    with pytest.raises(UserError, match="exactly one"):
        Pad()


def test_east_random_crop_output_size_and_dropped_polygons():
    np.random.seed(1)
    res = scene()
    res["gt_masks"].append(np.array([100, 60, 118, 60, 118, 75, 100, 75], np.float32))
    out = EastRandomCrop(target_size=(64, 48))(res)
    assert out["img"].shape == (48, 64, 3) and out["gt_map"].shape == (48, 64)
    for poly in out["gt_masks"]:                    # what is kept overlaps the crop
        pts = poly.reshape(-1, 2)
        assert pts[:, 0].max() >= 0 and pts[:, 1].max() >= 0


def test_random_crop_instances_keeps_text():
    np.random.seed(0)
    res = scene(200, 300)
    res["gt_kernels"] = np.stack([res["gt_map"]] * 3)
    res["seg_fields"].append("gt_kernels")
    out = RandomCropInstances(target_size=(64, 64), instance_key="gt_kernels",
                              positive_sample_ratio=1.0)(res)
    assert out["img"].shape == (64, 64, 3) and out["gt_kernels"].shape == (3, 64, 64)
    assert out["gt_kernels"][0].any()
    small = RandomCropInstances(target_size=(640, 640), instance_key="gt_kernels")(
        dict(scene(), gt_kernels=np.zeros((2, 80, 120), np.uint8)))
    assert small["img"].shape == (80, 120, 3)       # never larger than the image


def test_color_jitter():
    np.random.seed(0)
    img = np.random.randint(0, 256, (20, 30, 3)).astype(np.uint8)
    out = ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1)(dict(img=img))
    assert out["img"].shape == img.shape and out["img"].dtype == np.uint8
    assert not np.array_equal(out["img"], img)
    same = ColorJitter()(dict(img=img.copy()))
    assert np.array_equal(same["img"], img)
    bright = ColorJitter(brightness=(2.0, 2.0))(dict(img=np.full((2, 2, 3), 60, np.uint8)))
    assert (bright["img"] == 120).all()
    with pytest.raises(UserError, match="ColorJitter.hue"):
        ColorJitter(hue=0.7)


def test_imgaug_rejects_what_it_cannot_do():
    with pytest.raises(UserError, match="'GaussianBlur' is not supported"):
        ImgAug([["GaussianBlur", 1.0]])
    with pytest.raises(UserError, match="shear"):
        ImgAug([dict(cls="Affine", shear=[-10, 10])])


def test_load_text_annotations_and_format_bundle():
    ann = dict(bboxes=np.array([[0, 0, 10, 10]], np.float32), labels=np.array([0]),
               bboxes_ignore=np.zeros((0, 4), np.float32),
               masks=[[[0, 0, 10, 0, 10, 10, 0, 10]], [[1, 2, 3, 4]]],   # 2nd: too few points
               masks_ignore=[[[20, 20, 30, 20, 30, 30]]])
    res = LoadTextAnnotations(with_bbox=True, with_mask=True, poly2mask=False)(
        dict(ann_info=ann, img=np.zeros((32, 32, 3), np.float32)))
    assert len(res["gt_masks"]) == 1 and len(res["gt_masks_ignore"]) == 1
    assert res["mask_fields"] == ["gt_masks", "gt_masks_ignore"]
    res["gt_shrink"] = np.ones((32, 32), np.uint8)
    out = CustomFormatBundle(keys=["gt_shrink"])(res)
    assert out["img"].shape == (3, 32, 32) and out["img"].dtype == torch.float32
    assert out["gt_shrink"].dtype == torch.uint8
    with pytest.raises(UserError, match="gt_thr"):
        CustomFormatBundle(keys=["gt_thr"])(res)


def test_multiscale_flip_aug_one_view():
    norm = dict(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=False)
    step = MultiScaleFlipAug(img_scale=(1333, 160), flip=False, transforms=[
        dict(type="Resize", keep_ratio=True), dict(type="Normalize", **norm),
        dict(type="Pad", size_divisor=32), dict(type="ImageToTensor", keys=["img"]),
        dict(type="Collect", keys=["img"])])
    out = step(dict(scene(), filename="x.jpg", ori_shape=(80, 120, 3)))
    assert out["img"].shape == (3, 160, 256)
    assert out["img_metas"]["scale_factor"].tolist() == [2.0] * 4
    assert out["img_metas"]["ori_shape"] == (80, 120, 3)
    with pytest.raises(UserError, match="flip"):
        MultiScaleFlipAug(transforms=[], img_scale=(10, 10), flip=True)
    with pytest.raises(UserError, match="one test scale"):
        MultiScaleFlipAug(transforms=[], img_scale=[(10, 10), (20, 20)])


def test_scales_given_as_lists_as_json_configs_carry_them():
    # a config saved in checkpoint metadata (JSON) has [1333, 160] where the file had a tuple
    step = MultiScaleFlipAug(img_scale=[1333, 160], flip=False,
                             transforms=[dict(type="Resize", keep_ratio=True)])
    assert step(scene())["img"].shape == (160, 240, 3)
    assert Resize(img_scale=[300, 200], keep_ratio=True)(scene())["img"].shape == (200, 300, 3)
    jitter = ScaleAspectJitter(img_scale=[3000, 64], ratio_range=(1, 1),
                               resize_type="around_min_img_scale")
    assert jitter(scene())["img"].shape[0] == 64

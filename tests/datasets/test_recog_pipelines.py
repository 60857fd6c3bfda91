"""Pipeline steps: loading through file clients, ResizeOCR shapes and valid_ratio, formatting."""
import cv2
import numpy as np
import pytest
import torch

from ocr_ds import fileio
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.invalid import MISSING_IMAGE, UNDECODABLE_IMAGE, InvalidSample
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.datasets.pipelines.formatting import (
    Collect,
    DefaultFormatBundle,
    Normalize,
    NormalizeOCR,
    ToTensorOCR,
)
from ocr_ds.datasets.pipelines.loading import LoadImageFromFile, LoadImageFromLMDB
from ocr_ds.datasets.pipelines.ocr_transforms import ResizeOCR
from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.crnn.crnn import valid_ratios
from ocr_ds.tools.to_lmdb import write_recog_lmdb


def _img(h, w, c=3):
    return np.random.default_rng(0).integers(0, 255, (h, w, c) if c else (h, w), dtype=np.uint8)


def _resize(img, **kwargs):
    return ResizeOCR(**kwargs)({"img": img, "img_shape": img.shape})


@pytest.mark.parametrize("h,w,kwargs,shape,resize_w,ratio", [
    # MMOCR CRNN train: fixed 32x100 whatever the input
    (64, 50, dict(height=32, min_width=100, max_width=100, keep_aspect_ratio=False),
     (32, 100), 100, 1.0),
    # keep ratio, no bounds: width ceil(32/40*203)=163 -> nearest multiple of 16 = 160
    (40, 203, dict(height=32), (32, 160), 160, 1.0),
    # keep ratio, min width: 32/64*20 = 10 -> round(10/16)*16 = 16 -> max(32, 16) = 32
    (64, 20, dict(height=32, min_width=32), (32, 32), 32, 1.0),
    # narrow crop padded to max_width: 32/32*60 = 60 -> 64; valid 64/160
    (32, 60, dict(height=32, min_width=32, max_width=160), (32, 160), 64, 0.4),
    # wide crop squeezed to max_width: 32/16*400 = 800; valid min(1, 800/160)
    (16, 400, dict(height=32, max_width=160), (32, 160), 160, 1.0),
    # another divisor: width_downsample_ratio 0.25 -> multiple of 4; 32/32*61=61 -> 60
    (32, 61, dict(height=32, max_width=100, width_downsample_ratio=0.25), (32, 100), 60, 0.6),
])
def test_resize_ocr_shapes_and_valid_ratio(h, w, kwargs, shape, resize_w, ratio):
    out = _resize(_img(h, w), **kwargs)
    assert out["img"].shape[:2] == shape
    assert out["resize_shape"][:2] == (shape[0], resize_w)
    assert out["img_shape"] == out["resize_shape"]
    assert out["pad_shape"][:2] == shape
    assert out["valid_ratio"] == pytest.approx(ratio)


def test_resize_ocr_pads_with_value_and_keeps_grayscale_2d():
    out = _resize(np.full((32, 40), 200, np.uint8), height=32, max_width=100, img_pad_value=7)
    # 40 / 16 = 2.5 rounds (Python's round, as MMOCR) to 2 -> 32 px of image, 68 of padding
    assert out["img"].shape == (32, 100) and out["valid_ratio"] == 0.32
    assert (out["img"][:, 32:] == 7).all() and (out["img"][:, :32] == 200).all()


def test_resize_ocr_config_errors():
    with pytest.raises(UserError, match="max_width"):
        ResizeOCR(height=32, keep_aspect_ratio=False)
    with pytest.raises(UserError, match="tuple"):
        ResizeOCR(height=(32, 48), min_width=32, max_width=(100, 100))


def test_valid_ratio_against_padded_batch_width():
    # the collate pads the batch to the widest crop; the model divides by that width (MMOCR)
    pipe = Compose([dict(type="ResizeOCR", height=32, min_width=32),
                    dict(type="Normalize", mean=[127], std=[127]),
                    dict(type="DefaultFormatBundle"),
                    dict(type="Collect", keys=["img"], meta_keys=["resize_shape", "valid_ratio"])])
    samples = [pipe({"img": _img(32, w, 0), "img_shape": (32, w)}) for w in (64, 160)]
    batch = collate(samples)
    assert batch["img"].shape == (2, 1, 32, 160)
    assert valid_ratios(batch["img_metas"], batch["img"].size(-1)) == [0.4, 1.0]
    assert batch["img"][0, :, :, 64:].abs().sum() == 0  # padding is zeros


def test_normalize_and_bundle():
    gray = np.full((2, 3), 254, np.uint8)
    out = DefaultFormatBundle()(Normalize(mean=[127], std=[127])({"img": gray}))
    assert out["img"].dtype == torch.float32 and out["img"].shape == (1, 2, 3)
    assert torch.allclose(out["img"], torch.ones(1, 2, 3))
    assert out["img_norm_cfg"] == {"mean": [127.0], "std": [127.0], "to_rgb": True}
    bgr = np.zeros((1, 1, 3), np.uint8)
    bgr[0, 0] = (10, 20, 30)
    out = Normalize(mean=[0, 0, 0], std=[1, 1, 1], to_rgb=True)({"img": bgr})
    assert out["img"][0, 0].tolist() == [30.0, 20.0, 10.0]  # RGB now


def test_totensor_normalize_ocr():
    img = np.full((2, 3, 3), 255, np.uint8)
    out = NormalizeOCR(mean=[0.5] * 3, std=[0.5] * 3)(ToTensorOCR()({"img": img}))
    assert out["img"].shape == (3, 2, 3) and torch.allclose(out["img"], torch.ones(3, 2, 3))


def test_collect_meta_keys():
    results = {"img": torch.zeros(1, 2, 2), "filename": "a.jpg", "ori_shape": (2, 2),
               "img_shape": (2, 2), "text": "hi", "valid_ratio": 1.0}
    out = Collect(keys=["img"], meta_keys=["text", "valid_ratio", "not_there"])(results)
    assert set(out) == {"img", "img_metas"}
    assert out["img_metas"] == {"text": "hi", "valid_ratio": 1.0, "filename": "a.jpg",
                                "ori_shape": (2, 2), "img_shape": (2, 2)}
    with pytest.raises(UserError, match="Collect.keys"):
        Collect(keys=["gt_kernels"])(results)


def test_load_image_from_disk(tmp_path):
    img = _img(10, 20)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    color = LoadImageFromFile()
    out = color({"img_info": {"filename": "a.png"}, "img_prefix": str(tmp_path)})
    assert out["img"].shape == (10, 20, 3) and (out["img"] == img).all()
    assert out["filename"] == str(tmp_path / "a.png") and out["ori_filename"] == "a.png"
    assert out["ori_shape"] == out["img_shape"] == (10, 20, 3)
    gray = LoadImageFromFile(color_type="grayscale")
    assert gray({"img_info": {"filename": str(tmp_path / "a.png")}})["img"].shape == (10, 20)
    with pytest.raises(InvalidSample) as missing:
        color({"img_info": {"filename": "nope.png"}, "img_prefix": str(tmp_path)})
    assert missing.value.kind == MISSING_IMAGE
    with pytest.raises(InvalidSample) as bad:
        color({"img_info": {"filename": "bad.png"}, "img_prefix": str(tmp_path)})
    assert bad.value.kind == UNDECODABLE_IMAGE


def test_load_image_from_lmdb(tmp_path):
    ok, buf = cv2.imencode(".png", _img(8, 16))
    db = tmp_path / "db"
    write_recog_lmdb(str(db), ["x", "y"], [buf.tobytes(), b"garbage"])
    results = {"img_info": {"filename": "image-000000001"}, "img_prefix": str(db)}
    for step in (LoadImageFromLMDB(color_type="grayscale"),
                 LoadImageFromFile(color_type="grayscale", file_client_args=dict(backend="lmdb"))):
        assert step(dict(results))["img"].shape == (8, 16)
        with pytest.raises(InvalidSample) as bad:
            step({"img_info": {"filename": "image-000000002"}, "img_prefix": str(db)})
        assert bad.value.kind == UNDECODABLE_IMAGE
        with pytest.raises(InvalidSample) as missing:
            step({"img_info": {"filename": "image-000000009"}, "img_prefix": str(db)})
        assert missing.value.kind == MISSING_IMAGE
    with pytest.raises(UserError, match="db_path"):
        LoadImageFromLMDB()({"img_info": {"filename": "image-000000001"}, "img_prefix": ""})
    fileio.close_lmdb_environment(db)


def test_file_client_backends(tmp_path):
    (tmp_path / "f.bin").write_bytes(b"abc")
    assert fileio.FileClient().get(tmp_path / "f.bin") == b"abc"
    assert fileio.FileClient("disk").get_text(tmp_path / "f.bin") == "abc"
    with pytest.raises(UserError, match="file_client_args.backend"):
        fileio.FileClient("petrel")
    with pytest.raises(UserError, match="lmdb"):
        fileio.FileClient("lmdb")  # db_path is required


def test_compose_unknown_step_and_none_stops():
    with pytest.raises(UserError, match=r"pipeline\.0\.type"):
        Compose([dict(type="NoSuchStep")])
    assert Compose([lambda r: None, lambda r: 1 / 0])({}) is None

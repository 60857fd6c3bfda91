"""SegOCR as a user meets it: MMOCR's seg train pipeline on an OCRSegDataset sample gives the
batch SegRecognizer trains on; bad character-box annotations are skipped and counted; a
training batch without targets is a one-line error; half-precision logits give a float32
loss."""
import json

import cv2
import numpy as np
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.textrecog.ocr_seg_dataset import OCRSegDataset
from ocr_ds.errors import UserError
from ocr_ds.models.textrecog.seg.loss import SegLoss
from ocr_ds.registry import MODELS, build

PIPELINE = "configs/_base_/recog_pipelines/seg_pipeline.py"
LOADER = dict(type="AnnFileLoader", repeat=1, file_format="txt",
              parser=dict(type="LineJsonParser", keys=["file_name", "annotations", "text"]))


def _write(tmp_path, lines):
    img = np.full((32, 80, 3), 200, np.uint8)
    cv2.putText(img, "ab", (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (10, 10, 10), 2)
    cv2.imwrite(str(tmp_path / "a.png"), img)
    ann = tmp_path / "instances.txt"
    ann.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return str(ann)


GOOD = dict(file_name="a.png", text="ab", annotations=[
    dict(char_text="a", char_box=[8, 6, 22, 26]),
    dict(char_text="b", char_box=[22, 6, 36, 6, 36, 26, 22, 26])])


def test_train_pipeline_gives_seg_batch_and_skips_bad_boxes(tmp_path, caplog):
    bad = dict(GOOD, annotations=[dict(char_text="a", char_box=[1, 2, 3])])
    ann = _write(tmp_path, [GOOD, bad])
    steps = Config.fromfile(PIPELINE).to_dict()["train_pipeline"]
    ds = OCRSegDataset(ann, loader=LOADER, pipeline=steps, img_prefix=str(tmp_path))
    np.random.seed(0)
    torch.manual_seed(0)
    sample = ds[0]
    assert sample["img"].shape == (3, 64, 512) and sample["img"].dtype == torch.float32
    kernels = sample["gt_kernels"]
    assert kernels.shape == (3, 64, 512) and kernels.dtype == torch.int32
    # both characters' classes in the class map ('a' 11, 'b' 12; DICT36, '<BG>' first)
    assert {11, 12} <= set(kernels[1].unique().tolist())
    assert sample["img_metas"]["resize_shape"][0] == 64
    # the bad line is skipped (the next valid sample served in its place) and counted
    assert ds[1]["gt_kernels"].shape == (3, 64, 512)
    assert ds.skipped.counts["malformed annotation"] == 1
    assert "OCRSegDataset(" in caplog.text and "char_box has 3 numbers" in caplog.text

    model_cfg = Config.fromfile("configs/_base_/recog_models/seg.py").to_dict()["model"]
    model_cfg["backbone"].update(layers=[1, 1, 1, 1], channels=[4, 8, 8, 8, 16, 16])
    model_cfg["neck"].update(in_channels=[8, 8, 16, 16], out_channels=8)
    model_cfg["head"].update(in_channels=8)
    model = build(MODELS, model_cfg, "model")
    model.init_weights()
    batch = collate([sample, ds[0]])
    losses = model(batch)
    assert set(losses) == {"loss_seg"} and torch.isfinite(losses["loss_seg"])
    with pytest.raises(UserError, match="gt_kernels"):
        model({"img": batch["img"], "img_metas": batch["img_metas"]})


def test_seg_loss_runs_in_float32_under_bf16():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 5, 8, 8, generator=gen)
    gt = torch.zeros(1, 3, 8, 8, dtype=torch.int32)
    gt[0, 1, 2:6, 2:6] = 3
    loss = SegLoss(seg_downsample_ratio=1.0)
    full = loss(None, logits, gt)["loss_seg"]
    half = loss(None, logits.bfloat16(), gt)["loss_seg"]
    assert half.dtype == torch.float32
    assert torch.allclose(full, half, rtol=2e-2)

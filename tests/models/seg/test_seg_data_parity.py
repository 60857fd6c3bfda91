"""SegOCR's data side against MMOCR 0.6.3's own code: SegLoss's options, OCRSegTargets's maps,
the seg train pipeline's steps (same image, boxes and numpy/torch seeds -> same image, boxes,
target maps), OCRSegDataset's annotation parsing and evaluation."""
import copy
import json

import numpy as np
import pytest
import torch

from ocr_ds.config import Config
from ocr_ds.datasets.invalid import InvalidSample
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.datasets.pipelines.targets.seg import OCRSegTargets
from ocr_ds.datasets.textrecog.ocr_seg_dataset import OCRSegDataset, parse_anno_info
from ocr_ds.models.textrecog.seg.loss import SegLoss
from parity import assert_close, ref_file

REF = ref_file(__file__, "mmocr_seg.py")
CONV = dict(type="SegConvertor", dict_type="DICT36", with_unknown=True, lower=True)


def test_seg_loss_equals_mmocr(mmocr_ref):
    gen = torch.Generator().manual_seed(2)
    gt = torch.zeros(2, 3, 32, 64, dtype=torch.int32)
    gt[0, 1, 4:20, 3:17] = 12
    gt[1, 1, 6:30, 20:41] = 30
    gt[1, 1, :, 50:] = 255
    cases = [
        dict(args=dict(seg_downsample_ratio=0.5), logits=torch.randn(2, 38, 16, 32, generator=gen),
             gt_kernels=gt),
        dict(args=dict(seg_downsample_ratio=1.0, seg_with_loss_weight=False),
             logits=torch.randn(2, 38, 32, 64, generator=gen), gt_kernels=gt),
        dict(args=dict(seg_downsample_ratio=1.0), logits=torch.randn(2, 38, 32, 64, generator=gen),
             gt_kernels=gt),
        # no character at all: the character weight is N_bg / 0, which only unused classes get
        dict(args=dict(seg_downsample_ratio=1.0), logits=torch.randn(1, 38, 32, 64, generator=gen),
             gt_kernels=torch.zeros(1, 3, 32, 64, dtype=torch.int32)),
    ]
    theirs = mmocr_ref.call(REF, "loss_cases", cases=cases)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        logits = case["logits"].clone().requires_grad_(True)
        loss = SegLoss(**case["args"])(None, logits, case["gt_kernels"])["loss_seg"]
        loss.backward()
        assert_close(loss, ref["loss"], what=f"case {i} loss")
        assert_close(logits.grad, ref["grad"], what=f"case {i} grad")
    assert len({round(float(r["loss"]), 4) for r in theirs}) == len(cases)


def _target_cases():
    quads = [[2.6, 3.1, 14.2, 2.4, 15.0, 20.7, 1.9, 21.3],   # a slanted quadrangle
             [16.0, 4.0, 26.0, 4.0, 26.0, 20.0, 16.0, 20.0],
             [30.0, 5.0, 30.0, 5.0, 38.0, 18.0, 30.0, 18.0],  # a zero-length side
             [44.5, 2.0, 60.5, 6.0, 58.0, 25.5, 41.0, 22.0]]  # partly right of the resize
    rects = [[2.6, 3.1, 14.2, 20.7], [16.0, 4.0, 26.0, 20.0], [30.0, 5.0, 38.0, 18.0],
             [44.5, 2.0, 60.5, 25.5]]
    chars = ["A", "b", "%", "7"]
    base = dict(img_shape=(28, 52, 3), resize_shape=(28, 52, 3), pad_shape=(28, 64, 3),
                filename="x.png")
    return [
        dict(base, ann_info=dict(chars=chars, char_quads=quads, char_rects=rects)),
        # a resize that scaled the image: boxes scale by resize_shape / img_shape
        dict(base, img_shape=(14, 30, 3), ann_info=dict(chars=chars, char_quads=quads,
                                                        char_rects=rects)),
        dict(base, ann_info=dict(chars=[], char_quads=[], char_rects=[])),
    ]


@pytest.mark.parametrize("box_type", ["char_quads", "char_rects"])
def test_seg_targets_equal_mmocr(mmocr_ref, box_type):
    cases = _target_cases()
    strict = dict(CONV, with_unknown=False)
    theirs = mmocr_ref.call(REF, "targets_cases", convertor=CONV, box_type=box_type,
                            cases=cases)
    step = OCRSegTargets(label_convertor=CONV, box_type=box_type)
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        out = step(copy.deepcopy(case))
        assert out["gt_kernels"].dtype == np.int32
        assert torch.equal(torch.as_tensor(out["gt_kernels"]), ref), f"case {i}"
        assert out["seg_fields"] == ["gt_kernels"]
    assert set(theirs[0][1].unique().tolist()) == {0, 8, 11, 12, 37, 255}  # A->a, b, %->UKN, 7
    # a character outside the dictionary without <UKN>: MMOCR raises (its dataset then skips
    # the sample); here the sample is invalid, which the dataset skips and counts
    (err,) = mmocr_ref.call(REF, "targets_cases", convertor=strict, box_type=box_type,
                            cases=cases[:1])
    assert err.startswith("error")
    with pytest.raises(InvalidSample, match="not in the dictionary"):
        OCRSegTargets(label_convertor=strict, box_type=box_type)(copy.deepcopy(cases[0]))


def _pipeline_steps():
    """MMOCR's seg train pipeline without the loader, rotation always on."""
    steps = Config.fromfile("configs/_base_/recog_pipelines/seg_pipeline.py").to_dict()[
        "train_pipeline"]
    names = [s["type"] for s in steps]
    assert names[0] == "LoadImageFromFile" and "ColorJitter" in names
    steps = steps[1:names.index("CustomFormatBundle")]
    for s in steps:
        if s["type"] == "RandomRotateTextDet":
            s["rotate_ratio"] = 1.0
    return steps


def _pipeline_cases():
    rng = np.random.default_rng(4)
    cases = []
    for seed, (h, w) in zip((0, 1, 2), ((30, 90), (40, 48), (24, 200))):
        img = torch.as_tensor(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        n = 4
        xs = np.linspace(2, w - 2, n + 1)
        quads = [[float(xs[i]), 3.0, float(xs[i + 1]) - 1, 4.0, float(xs[i + 1]) - 2,
                  float(h - 3), float(xs[i]) + 1, float(h - 4)] for i in range(n)]
        cases.append(dict(img=img, seed=seed, ann_info=dict(
            chars=list("aZ3?"), char_quads=quads,
            char_rects=[[q[0], q[1], q[2], q[5]] for q in quads])))
    return cases


def test_seg_pipeline_steps_equal_mmocr(mmocr_ref):
    steps, cases = _pipeline_steps(), _pipeline_cases()
    theirs = mmocr_ref.call(REF, "augment", steps=steps, cases=cases)
    pipe = Compose(copy.deepcopy(steps))
    for i, (case, ref) in enumerate(zip(cases, theirs)):
        np.random.seed(case["seed"])
        torch.manual_seed(case["seed"])
        img = case["img"].numpy()
        out = pipe(dict(img=img, img_shape=img.shape, ori_shape=img.shape, filename="x.png",
                        ann_info=copy.deepcopy(case["ann_info"])))
        assert list(out["img_shape"]) == ref["img_shape"], f"case {i}"
        assert list(out["resize_shape"]) == ref["resize_shape"]
        assert list(out["pad_shape"]) == ref["pad_shape"]
        assert out["ann_info"]["chars"] == ref["ann_info"]["chars"]
        assert_close(out["ann_info"]["char_quads"], ref["ann_info"]["char_quads"],
                     what=f"case {i} boxes")
        assert torch.equal(torch.as_tensor(out["gt_kernels"]), ref["gt_kernels"]), f"case {i}"
        assert_close(out["img"], ref["img"], what=f"case {i} image")
    # the rotation dropped boxes that left the image in some case, kept most elsewhere
    assert all(len(r["ann_info"]["chars"]) >= 2 for r in theirs)
    assert any(int(r["gt_kernels"][1].max()) not in (0, 255) for r in theirs)


ANNOTATIONS = [
    dict(file_name="a.png", text="ab", annotations=[
        dict(char_text="a", char_box=[1, 2, 5, 9]),
        dict(char_text="b", char_box=[6, 2, 4, 7], char_box_type="xywh")]),
    dict(file_name="b.png", text="Cd", annotations=[
        dict(char_text="C", char_box=[1, 1, 7, 2, 8, 9, 0, 8]),
        dict(char_text="d", char_box=[9.5, 1, 14, 1, 14, 9, 9.5, 9])]),
    dict(file_name="c.png", text="x", annotations=[dict(char_text="x", char_box=[1, 2, 3])]),
    dict(file_name="d.png", text="y", annotations=[
        dict(char_text="y", char_box=[1, 2, 3, 4], char_box_type="cxcywh")]),
    dict(file_name="e.png", text="zz", annotations=[
        dict(char_text="z", char_box=[1, 2, 3, 4]), dict(char_text="z", char_box=[1, 2])]),
]


def test_seg_dataset_equals_mmocr(mmocr_ref, tmp_path):
    ann_file = tmp_path / "instances.txt"
    ann_file.write_text("".join(json.dumps(a) + "\n" for a in ANNOTATIONS))
    results = [dict(text=t) for t in ("ab", "cd", "X", "", "zy")]
    theirs = mmocr_ref.call(REF, "dataset_run", ann_file=str(ann_file),
                            img_prefix=str(tmp_path), results=results)
    ds = OCRSegDataset(str(ann_file), img_prefix=str(tmp_path), test_mode=True, loader=dict(
        type="AnnFileLoader", repeat=1, file_format="txt",
        parser=dict(type="LineJsonParser", keys=["file_name", "annotations", "text"])))
    assert len(ds) == theirs["size"]
    for i, ref in enumerate(theirs["parsed"]):
        if isinstance(ref, str):
            with pytest.raises(ValueError):
                parse_anno_info(ds.data_infos[i]["annotations"])
        else:
            assert parse_anno_info(ds.data_infos[i]["annotations"]) == ref, f"line {i}"
    assert [isinstance(p, str) for p in theirs["parsed"]] == [False, False, True, True, True]
    assert_close(ds.evaluate(results, metric="acc"), theirs["metrics"], what="metrics")

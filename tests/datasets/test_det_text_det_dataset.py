"""TextDetDataset (MMOCR's JSON-lines detection annotations) through a real DBNet pipeline, as
MMOCR's toy_data.py config uses it; bad lines skipped in training, an error in testing.
The field-by-field comparison with MMOCR's class is in test_datasets_parity.py."""
import json

import cv2
import numpy as np
import pytest
import torch

from ocr_ds.datasets.collate import collate
from ocr_ds.errors import UserError
from ocr_ds.registry import DATASETS, build
from test_det_icdar_dataset import TEST_PIPELINE, TRAIN_PIPELINE

LOADER = dict(type="AnnFileLoader", repeat=4, file_format="txt",
              parser=dict(type="LineJsonParser",
                          keys=["file_name", "height", "width", "annotations"]))


def box(x0, y0, x1, y1):
    return [x0, y0, x1, y0, x1, y1, x0, y1]


@pytest.fixture
def toy(tmp_path):
    (tmp_path / "imgs").mkdir()
    lines = []
    for i in range(2):
        img = np.full((64, 96, 3), 200, np.uint8)
        cv2.rectangle(img, (10, 10), (60, 30), (0, 0, 0), -1)
        cv2.imwrite(str(tmp_path / "imgs" / f"{i}.jpg"), img)
        lines.append(json.dumps(dict(file_name=f"{i}.jpg", height=64, width=96, annotations=[
            dict(iscrowd=0, category_id=1, bbox=[10, 10, 50, 20],
                 segmentation=[box(10, 10, 60, 30)]),
            dict(iscrowd=1, category_id=1, bbox=[70, 40, 20, 10],
                 segmentation=[box(70, 40, 90, 50)])])))
    (tmp_path / "instances_test.txt").write_text("\n".join(lines) + "\n{broken\n")
    return tmp_path


def member(root, test_mode, **loader):
    return dict(type="TextDetDataset", img_prefix=str(root / "imgs"),
                ann_file=str(root / "instances_test.txt"), loader=dict(LOADER, **loader),
                pipeline=None, test_mode=test_mode)


def test_trains_through_the_dbnet_pipeline_and_evaluates(toy):
    train = build(DATASETS, dict(type="UniformConcatDataset", datasets=[member(toy, False)],
                                 pipeline=TRAIN_PIPELINE), "data.train")
    assert len(train) == 12  # 3 lines x repeat 4
    batch = collate([train[i] for i in (0, 2, 3)])  # index 2 is the broken line: skipped
    assert batch["img"].shape == (3, 3, 64, 64) and batch["gt_shrink"].data[0].sum() > 0
    test = build(DATASETS, dict(type="UniformConcatDataset",
                                datasets=[member(toy, True, repeat=1)], pipeline=TEST_PIPELINE),
                 "data.val")
    sample = test[0]
    assert isinstance(sample["img"][0], torch.Tensor)
    with pytest.raises(UserError, match=r"instances_test.txt:3: malformed annotation"):
        test[2]
    results = [dict(boundary_result=[box(10, 10, 60, 30) + [0.9], box(70, 40, 90, 50) + [0.9]]),
               dict(boundary_result=[box(40, 10, 90, 30) + [0.9]])]
    with pytest.raises(UserError, match="malformed annotation"):
        test.evaluate(results + [dict(boundary_result=[])])
    lines = (toy / "instances_test.txt").read_text().splitlines()
    (toy / "good.txt").write_text("\n".join(lines[:2]) + "\n")  # without the broken line
    good = build(DATASETS, dict(member(toy, True, repeat=1), pipeline=TEST_PIPELINE,
                                ann_file=str(toy / "good.txt")), "d")
    # image 0: a hit, the prediction on the don't-care box ignored; image 1: IoU 0.2, a miss
    assert good.evaluate(results, metric=["hmean-iou"]) == {
        "hmean-iou:recall": 0.5, "hmean-iou:precision": 0.5, "hmean-iou:hmean": 0.5}

"""Mask R-CNN at DeepSpeed ZeRO-3 on 2 real CPU ranks whose images take different branches.

ZeRO-3 gathers each module's weights as it runs and records the order modules run in; every
rank must run the same modules in the same order, step after step (DeepSpeed compares the
ranks' records: "Detected a disagreement on list length between rank0 and rank1"). The data
are chosen so that the ranks differ wherever mmdet's Mask R-CNN runs modules for some data
only:

* training (2 images, one a rank and step): a 32x32 image with only a ``###`` region (no
  ground truth: no positives, so no mask loss and no box loss; at most 430 anchors, fewer than
  the 512 RoIs OHEM samples, so nothing to mine), and a 160x160 one with three words (about a
  thousand proposals: OHEM mines; one word of 140x130 pixels pools from the second FPN level);
* evaluation (4 images, two a rank): the square ones on rank 0 (proposals and detections),
  160x16 strips on rank 1 (every proposal is at most 16 pixels high, and
  ``test_cfg.rpn.min_bbox_size=16`` keeps none: no box head, nothing detected, no mask head).

Before ocr_ds ran these alike, a rank aborted in the first step (a gather the other rank did
not join); with only the test-time part missing, the first evaluation hung; with the losses or
the RoI layers traced, DeepSpeed stopped at the second step ("rank0: 313, rank1: 318"). Now it
trains 3 steps, evaluates after each epoch and saves a checkpoint. The probe
(``zero3_probe.py``) records per rank which branches were taken, so the test shows the ranks
really differed.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from ocr_ds.tools.gen_det_data import background

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "engine"))
import helpers  # noqa: E402 (tests/engine/helpers.py: the multi-rank tests' runner)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zero3_probe.py")

CONFIG = """_base_ = [{root!r} + '/configs/textdet/maskrcnn/mask_rcnn_r50_fpn_160e_icdar2015.py']
c = 16
model = dict(
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=c),
    rpn_head=dict(in_channels=c, feat_channels=c),
    roi_head=dict(bbox_roi_extractor=dict(out_channels=c),
                  mask_roi_extractor=dict(out_channels=c),
                  bbox_head=dict(in_channels=c, fc_out_channels=2 * c),
                  mask_head=dict(in_channels=c, conv_out_channels=c)),
    test_cfg=dict(rpn=dict(min_bbox_size=16)))
norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Normalize', **norm),
    dict(type='Pad', size_divisor=32),
    dict(type='DefaultFormatBundle'),
    dict(type='Collect', keys=['img', 'gt_bboxes', 'gt_labels', 'gt_masks'])]
test_pipeline = [
    dict(type='LoadImageFromFile', color_type='color_ignore_orientation'),
    dict(type='MultiScaleFlipAug', img_scale=(160, 160), flip=False, transforms=[
        dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
        dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']),
        dict(type='Collect', keys=['img'])])]
data_root = {data!r}
train_set = dict(type='IcdarDataset', ann_file=data_root + '/train.json',
                 img_prefix=data_root + '/imgs', pipeline=None)
test_set = dict(train_set, ann_file=data_root + '/test.json')
data = dict(samples_per_gpu=1, workers_per_gpu=0, persistent_workers=False,
            train=dict(datasets=[train_set], pipeline=train_pipeline),
            val=dict(datasets=[test_set], pipeline=test_pipeline),
            test=dict(datasets=[test_set], pipeline=test_pipeline))
runner = dict(max_epochs=3)
evaluation = dict(interval=1)
checkpoint_config = dict(interval=3)
log_config = dict(interval=1)
deepspeed = dict(zero_optimization=dict(stage=3))
"""


def _rect(x1, y1, x2, y2):
    return [x1, y1, x2, y1, x2, y2, x1, y2]


def write_data(root: str) -> None:
    """The images and COCO files the docstring describes (``iscrowd=1``: a ``###`` region)."""
    rng = np.random.default_rng(0)
    scenes = {
        "train.json": [("empty.jpg", background(rng, 32).astype(np.uint8),
                        [(_rect(4, 8, 28, 20), 1)]),
                       ("words.jpg", background(rng, 160).astype(np.uint8),
                        [(_rect(10, 10, 150, 140), 0), (_rect(20, 60, 60, 80), 0),
                         (_rect(90, 30, 140, 50), 0)])],
        "test.json": [],
    }
    for i in range(4):
        img = background(rng, 160).astype(np.uint8)
        if i % 2:
            scenes["test.json"].append((f"strip{i}.jpg", img[:16], []))
        else:
            scenes["test.json"].append((f"square{i}.jpg", img, [(_rect(30, 40, 120, 70), 0)]))
    os.makedirs(os.path.join(root, "imgs"))
    for ann_file, images in scenes.items():
        coco = dict(images=[], annotations=[], categories=[dict(id=1, name="text")])
        for i, (name, img, anns) in enumerate(images):
            cv2.imwrite(os.path.join(root, "imgs", name), img)
            coco["images"].append(dict(id=i, file_name=name, height=img.shape[0],
                                       width=img.shape[1]))
            for poly, crowd in anns:
                x1, y1, x2, y2 = poly[0], poly[1], poly[4], poly[5]
                coco["annotations"].append(dict(
                    id=len(coco["annotations"]), image_id=i, category_id=1, iscrowd=crowd,
                    bbox=[x1, y1, x2 - x1, y2 - y1], area=float((x2 - x1) * (y2 - y1)),
                    segmentation=[poly]))
        with open(os.path.join(root, ann_file), "w") as f:
            json.dump(coco, f)


def run(cmd: list[str], timeout: int) -> tuple[int, str]:
    """``cmd`` in its own process group, all of it killed if it outlives ``timeout`` (a
    rank left waiting in a collective would outlive its launcher)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=helpers.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        return -1, f"timed out after {timeout} s\n{out}"
    return proc.returncode, out


@pytest.mark.slow
def test_zero3_trains_evaluates_and_saves_on_ranks_that_branch_apart(tmp_path):
    data = str(tmp_path / "data")
    write_data(data)
    config = tmp_path / "mask_rcnn_zero3.py"
    config.write_text(CONFIG.format(root=ROOT, data=data))
    work = str(tmp_path / "work")
    cmd = helpers.command(["--work-dir", work, "--seed", "0"], ranks=2, config=str(config),
                          script=PROBE)
    code, out = run(cmd, timeout=300)
    assert code == 0, f"{' '.join(cmd)} exited {code}\n{out[-6000:]}"

    events = helpers.json_log(work)[1:]
    train = [e for e in events if e.get("mode") == "train"]
    assert len(train) == 3 and all(np.isfinite(e["loss"]) for e in train), train
    val = [e for e in events if e.get("mode") == "val"]
    assert [e["epoch"] for e in val] == [1, 2, 3], val
    assert any(k.endswith("hmean-iou:hmean") for k in val[-1]), val
    assert os.path.isdir(os.path.join(work, "epoch_3"))

    # the ranks took different branches at every step and every test image
    ranks = []
    for rank in (0, 1):
        with open(os.path.join(work, f"branches_rank{rank}.json")) as f:
            ranks.append(json.load(f))
    steps = list(zip(ranks[0]["train"], ranks[1]["train"]))
    assert len(steps) == 3, ranks
    for key in ("mined", "positives", "upper"):
        assert all(sorted(s[key] > 0 for s in step) == [False, True] for step in steps), \
            (key, steps)
    square, strip = ranks[0]["test"], ranks[1]["test"]
    assert len(square) == len(strip) == 6, ranks
    assert all(t["detections"] > 0 for t in square), square
    assert all(t["proposals"] == 0 and t["detections"] == 0 for t in strip), strip

"""Datasets over lmdbs made by to_lmdb: the same samples as from disk, one environment per worker.

Recognition (labels + images, and labels only) and detection (images keyed by file_name, JSON
annotations) give the same texts, pixels and annotations as the disk data sets; with a
DataLoader of two forked workers each worker opens the lmdb once, itself, and the parent's
environment is never used after the fork.
"""
import os

import lmdb
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from ocr_ds import fileio
from ocr_ds.config import Config
from ocr_ds.registry import DATASETS, build
from ocr_ds.tools import gen_det_data, gen_recog_data, to_lmdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECOG_PIPELINE = [
    dict(type="LoadImageFromFile", color_type="grayscale"),
    dict(type="ResizeOCR", height=32, min_width=128, max_width=128, keep_aspect_ratio=False),
    dict(type="DefaultFormatBundle"),
    dict(type="Collect", keys=["img"], meta_keys=["filename", "text", "ori_shape"]),
]
LMDB_LOADER = dict(type="AnnFileLoader", file_format="lmdb",
                   parser=dict(type="LineJsonParser", keys=["filename", "text"]))
DET_LOAD = [dict(type="LoadImageFromFile"),
            dict(type="LoadTextAnnotations", with_bbox=True, with_mask=True, poly2mask=False)]


def lmdb_load(db_path=None):
    args = dict(backend="lmdb", **({"db_path": str(db_path)} if db_path else {}))
    return dict(type="LoadImageFromFile", file_client_args=args)


@pytest.fixture(scope="module")
def recog(tmp_path_factory):
    root = tmp_path_factory.mktemp("recog")
    gen_recog_data.generate(str(root), num_train=10, num_test=0, seed=2, write_lmdb=False)
    to_lmdb.convert_recog(str(root / "train_label.txt"), str(root / "full"), str(root / "train"))
    to_lmdb.convert_recog(str(root / "train_label.txt"), str(root / "labels"), label_only=True)
    return root


@pytest.fixture(scope="module")
def det(tmp_path_factory):
    root = tmp_path_factory.mktemp("det")
    gen_det_data.generate(str(root), num_train=3, num_test=2, seed=1, size=128)
    to_lmdb.convert_det([str(root / "instances_training.json"),
                         str(root / "instances_test.json")], str(root / "db"), str(root / "imgs"))
    return root


def recog_sets(root):
    disk = build(DATASETS, dict(type="OCRDataset", ann_file=str(root / "train_label.txt"),
                                img_prefix=str(root / "train"), pipeline=RECOG_PIPELINE),
                 "data.train")
    full = build(DATASETS, dict(type="OCRDataset", ann_file=str(root / "full"),
                                img_prefix=str(root / "full"), loader=LMDB_LOADER,
                                pipeline=[dict(type="LoadImageFromLMDB", color_type="grayscale"),
                                          *RECOG_PIPELINE[1:]]), "data.train")
    labels = build(DATASETS, dict(type="OCRDataset", ann_file=str(root / "labels"),
                                  img_prefix=str(root / "train"), loader=LMDB_LOADER,
                                  pipeline=RECOG_PIPELINE), "data.train")
    return disk, full, labels


def test_recog_lmdb_datasets_yield_the_disk_samples(recog):
    disk, full, labels = recog_sets(recog)
    assert len(disk) == len(full) == len(labels) == 10
    texts = [line.split(" ")[1] for line in (recog / "train_label.txt").read_text().splitlines()]
    for i in range(10):
        a, b, c = disk[i], full[i], labels[i]
        assert a["img_metas"]["text"] == b["img_metas"]["text"] == c["img_metas"]["text"] \
            == texts[i]
        assert a["img_metas"]["ori_shape"] == b["img_metas"]["ori_shape"]
        assert torch.equal(a["img"], b["img"]) and torch.equal(a["img"], c["img"])
        assert b["img_metas"]["filename"] == f"image-{i + 1:09d}"
        assert c["img_metas"]["filename"] == a["img_metas"]["filename"]
    assert full.evaluate([{"text": t} for t in texts])["word_acc"] == 1.0


def det_set(root, pipeline, split="training", test_mode=False):
    return build(DATASETS, dict(type="IcdarDataset", ann_file=str(root / f"instances_{split}.json"),
                                img_prefix=str(root / "imgs"), pipeline=pipeline,
                                test_mode=test_mode), "data.train")


def polygons(masks):
    return [[np.asarray(p).tolist() for p in mask] for mask in masks]


def test_det_lmdb_dataset_yields_the_disk_images_and_annotations(det):
    disk = det_set(det, DET_LOAD)
    db = det_set(det, [lmdb_load(det / "db"), DET_LOAD[1]])
    assert len(disk) == len(db) == 3
    for i in range(3):
        a, b = disk[i], db[i]
        assert np.array_equal(a["img"], b["img"]) and a["img"].shape == (128, 128, 3)
        name = f"training/img_{i + 1}.jpg"
        assert a["ori_filename"] == b["ori_filename"] == b["filename"] == name
        assert a["filename"] == str(det / "imgs" / b["filename"])
        for key in ("gt_bboxes", "gt_labels", "gt_bboxes_ignore"):
            assert np.array_equal(a[key], b[key]), key
        assert polygons(a["gt_masks"]) == polygons(b["gt_masks"]) and len(a["gt_masks"]) > 0
        assert polygons(a["gt_masks_ignore"]) == polygons(b["gt_masks_ignore"])
        assert len(a["gt_bboxes"]) > 0
    # the shipped lmdb demo config's test pipeline: the same tensors as the disk demo's
    cfg = Config.fromfile(os.path.join(ROOT, "configs/textdet/dbnet/dbnet_r18_synth_lmdb_cpu.py"))
    base = Config.fromfile(os.path.join(ROOT, "configs/textdet/dbnet/dbnet_r18_synth_cpu.py"))
    lmdb_steps = cfg.to_dict()["data"]["test"]["pipeline"]
    assert lmdb_steps[0]["file_client_args"] == dict(backend="lmdb",
                                                     db_path="data/synth_det/imgs_lmdb")
    lmdb_steps[0]["file_client_args"]["db_path"] = str(det / "db")
    disk_test = det_set(det, base.to_dict()["data"]["test"]["pipeline"], "test", True)
    db_test = det_set(det, lmdb_steps, "test", True)
    for i in range(2):
        assert torch.equal(disk_test[i]["img"][0], db_test[i]["img"][0])


class Probe(Dataset):
    """A dataset's samples with the process that read them and the environment it used."""

    def __init__(self, dataset, db):
        self.dataset, self.db = dataset, os.path.realpath(db)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, i):
        self.dataset[i]
        owner = fileio._LMDB_ENVS[self.db][1]
        return dict(pid=os.getpid(), owner=owner, index=i)


def _opens_per_process(monkeypatch, log):
    real = lmdb.open

    def spy(path, *args, **kwargs):
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {path}\n")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(lmdb, "open", spy)

    def count(db):
        if not os.path.exists(log):
            return {}
        counts = {}
        with open(log) as f:
            for line in f:
                pid, path = line.split()
                if path == os.path.realpath(db):
                    counts[int(pid)] = counts.get(int(pid), 0) + 1
        return counts

    return count


@pytest.mark.parametrize("task", ["recog", "det"])
def test_each_worker_opens_its_own_environment_once(task, recog, det, tmp_path, monkeypatch):
    opens = _opens_per_process(monkeypatch, tmp_path / "opens.log")
    if task == "recog":
        db = recog / "full"
        dataset = recog_sets(recog)[1]
    else:
        db = det / "db"
        dataset = det_set(det, [lmdb_load(db), DET_LOAD[1]])
    fileio.close_lmdb_environment(db)  # an earlier test's environment would hide the open
    dataset[0]  # the parent reads first: its environment exists when the workers fork
    parent = os.getpid()
    parent_opens = opens(db).get(parent, 0)
    assert fileio._LMDB_ENVS[os.path.realpath(db)][1] == parent
    loader = DataLoader(Probe(dataset, db), batch_size=1, num_workers=2,
                        multiprocessing_context="fork", collate_fn=lambda batch: batch[0])
    seen = list(loader)
    assert sorted(s["index"] for s in seen) == list(range(len(dataset)))
    workers = {s["pid"] for s in seen}
    assert len(workers) == 2 and parent not in workers
    assert all(s["owner"] == s["pid"] for s in seen)  # each read used its own process's env
    counts = opens(db)
    assert {pid: counts[pid] for pid in workers} == {pid: 1 for pid in workers}  # once each
    assert counts.get(parent, 0) == parent_opens  # the parent opened nothing new...
    dataset[0]
    assert opens(db).get(parent, 0) == parent_opens  # ...and still uses its own environment
    fileio.close_lmdb_environment(db)

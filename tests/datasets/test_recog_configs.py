"""The recognition configs load and build: MMOCR's academic CRNN and the CPU demo."""
import copy
import os

import torch

from ocr_ds.config import Config
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.registry import DATASETS, MODELS, build
from ocr_ds.tools.gen_recog_data import generate

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = os.path.join(ROOT, "configs", "textrecog", "crnn")


def test_academic_config_is_mmocr_crnn():
    cfg = Config.fromfile(os.path.join(CONFIGS, "crnn_academic_dataset.py"))
    assert cfg["optimizer"] == {"type": "Adadelta", "lr": 1.0}
    assert cfg["runner"]["max_epochs"] == 5 and cfg["data"]["samples_per_gpu"] == 64
    assert cfg["evaluation"] == {"interval": 1, "metric": "acc"}
    train, val = cfg["data"]["train"], cfg["data"]["val"]
    assert train["type"] == "UniformConcatDataset"
    assert train["datasets"][0]["ann_file"] == "data/mixture/Syn90k/label.lmdb"
    assert [d["img_prefix"] for d in val["datasets"]] == [
        "data/mixture/IIIT5K/", "data/mixture/svt/", "data/mixture/icdar_2013/",
        "data/mixture/icdar_2015/", "data/mixture/svtp/", "data/mixture/ct80/"]
    Compose(train["pipeline"])
    Compose(val["pipeline"])
    model = build(MODELS, cfg["model"], "model")
    assert model.decoder.num_classes == 37  # blank + DICT36
    assert sum(p.numel() for p in model.parameters()) == 8_331_301
    # the test pipeline keeps the aspect ratio; the VGG still ends 1 pixel high
    out = model({"img": torch.zeros(1, 1, 32, 64),
                 "img_metas": [{"resize_shape": (32, 64)}]}, return_loss=False)
    assert isinstance(out[0]["text"], str)


def test_demo_config_trains_and_evaluates(tmp_path):
    cfg = Config.fromfile(os.path.join(CONFIGS, "crnn_synth_cpu.py"))
    assert cfg["synth_data"]["tool"] == "gen_recog_data"
    generate(str(tmp_path), num_train=8, num_test=6, seed=0, write_lmdb=False)
    data = copy.deepcopy(cfg["data"])
    for split in ("train", "val"):
        member = data[split]["datasets"][0]
        name = "train" if split == "train" else "test"
        member["ann_file"] = str(tmp_path / f"{name}_label.txt")
        member["img_prefix"] = str(tmp_path / name)
    train_set = build(DATASETS, data["train"], "data.train")
    val_set = build(DATASETS, data["val"], "data.val")
    torch.manual_seed(0)
    model = build(MODELS, cfg["model"], "model")
    batch = collate([train_set[i] for i in range(4)])
    assert batch["img"].shape == (4, 1, 32, 128)
    loss = model(batch)["loss_ctc"]
    loss.backward()
    model.eval()
    results = model(collate([val_set[i] for i in range(len(val_set))]), return_loss=False)
    metrics = val_set.evaluate(results, metric=cfg["evaluation"]["metric"])
    # one member: no mean_* keys (MMOCR's show_mean_scores='auto')
    assert "0_word_acc" in metrics and "mean_word_acc" not in metrics

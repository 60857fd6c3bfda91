"""Short real trainings (ocr_ds/train.py) of the lmdb demo configs, with the disk copies removed.

The image folders (and recognition label files) are deleted after generation, so the runs can
only read the lmdbs; the synth_data step sees current data (meta.json) and does not regenerate.
"""
from __future__ import annotations

import math
import os
import shutil

import pytest

import helpers
from ocr_ds.tools import gen_det_data, gen_recog_data

pytestmark = pytest.mark.slow
CONFIGS = os.path.join(helpers.ROOT, "configs")


def _train_entries(wd):
    log = helpers.json_log(wd)
    return [e for e in log if e.get("mode") == "train"], [e for e in log if e.get("mode") == "val"]


def test_crnn_trains_from_recognition_lmdbs(tmp_path):
    data, wd = tmp_path / "data", str(tmp_path / "wd")
    gen_recog_data.generate(str(data), num_train=32, num_test=8, seed=0)
    for name in ("train", "test"):
        shutil.rmtree(data / name)
        os.remove(data / f"{name}_label.txt")
    opts = [f"synth_data.out_dir={data}", "synth_data.num_train=32", "synth_data.num_test=8",
            "data.samples_per_gpu=8", "data.workers_per_gpu=1", "runner.max_epochs=1",
            "log_config.interval=1", "lr_config.warmup_iters=2"]
    for split, name in (("train", "train"), ("val", "test"), ("test", "test")):
        opts += [f"data.{split}.datasets.0.ann_file={data}/{name}_lmdb",
                 f"data.{split}.datasets.0.img_prefix={data}/{name}_lmdb"]
    proc = helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", *opts],
                         config=os.path.join(CONFIGS, "textrecog/crnn/crnn_synth_lmdb_cpu.py"))
    train, val = _train_entries(wd)
    assert [e["iter"] for e in train] == [1, 2, 3, 4]  # 32 crops / 8 per step
    assert all(math.isfinite(e["loss"]) and e["loss"] > 0 for e in train)
    assert len(val) == 1 and 0.0 <= val[0]["0_word_acc"] <= 1.0
    assert not (data / "train").exists()  # nothing was regenerated to disk
    # every sample was read from the lmdb
    assert "skipping bad samples" not in proc.stdout + proc.stderr + helpers.text_log(wd)


def test_dbnet_trains_from_a_detection_lmdb(tmp_path):
    data, wd = tmp_path / "data", str(tmp_path / "wd")
    gen_det_data.generate(str(data), num_train=4, num_test=2, seed=0, size=128, write_lmdb=True)
    shutil.rmtree(data / "imgs")
    db = f"{data}/imgs_lmdb"
    opts = [f"synth_data.out_dir={data}", "synth_data.num_train=4", "synth_data.num_test=2",
            "synth_data.size=128", "data.samples_per_gpu=2", "runner.max_epochs=1",
            "log_config.interval=1",
            f"data.train.ann_file={data}/instances_training.json",
            f"data.val.ann_file={data}/instances_test.json",
            f"data.test.ann_file={data}/instances_test.json"]
    opts += [f"data.{split}.pipeline.0.file_client_args.db_path={db}"
             for split in ("train", "val", "test")]
    proc = helpers.train(["--work-dir", wd, "--seed", "0", "--cfg-options", *opts],
                         config=os.path.join(CONFIGS, "textdet/dbnet/dbnet_r18_synth_lmdb_cpu.py"))
    train, val = _train_entries(wd)
    assert [e["iter"] for e in train] == [1, 2]  # 4 scenes / 2 per step
    assert all(math.isfinite(e["loss"]) and e["loss"] > 0 for e in train)
    assert len(val) == 1 and "hmean-iou:hmean" in val[0]
    assert not (data / "imgs").exists()
    assert "skipping bad samples" not in proc.stdout + proc.stderr + helpers.text_log(wd)

"""The detection configs load, build, and (the CPU demos) run a training step and an evaluation."""
import copy
import glob
import os

import numpy as np
import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.datasets.collate import collate
from ocr_ds.datasets.pipelines.compose import Compose
from ocr_ds.tools.gen_det_data import generate
from ocr_ds.tools.infer_det import strip_pretrained

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFIGS = sorted(glob.glob(os.path.join(REPO, "configs/textdet/*/*.py")))
torch.set_num_threads(1)


def pipelines(cfg):
    for split in ("train", "val", "test"):
        spec = cfg["data"][split]
        yield from ([spec["pipeline"]] if spec.get("pipeline") else [])
        for member in spec.get("datasets", []):
            yield from ([member["pipeline"]] if member.get("pipeline") else [])


def test_all_det_configs_are_there():
    names = {os.path.basename(p) for p in CONFIGS}
    assert {"dbnet_r18_fpnc_1200e_icdar2015.py", "dbnet_r50dcnv2_fpnc_1200e_icdar2015.py",
            "dbnet_r50dcnv2_fpnc_100k_iters_synthtext.py", "dbnetpp_r50dcnv2_fpnc_1200e_icdar2015.py",
            "dbnetpp_r50dcnv2_fpnc_100k_iter_synthtext.py", "dbnetpp_r50dcnv2_synth_cpu.py",
            "psenet_r50_fpnf_600e_icdar2015.py", "psenet_r50_fpnf_sbn_1x_icdar2015.py",
            "dbnet_r18_synth_cpu.py", "psenet_r50_synth_cpu.py",
            "panet_r18_fpem_ffm_600e_ctw1500.py", "panet_r18_fpem_ffm_600e_icdar2015.py",
            "panet_r50_fpem_ffm_600e_icdar2017.py", "panet_r18_synth_cpu.py"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_config_builds(path):
    cfg = Config.fromfile(path).to_dict()
    model = registry.build(registry.MODELS, strip_pretrained(cfg["model"]), "model")
    assert type(model).__name__ == cfg["model"]["type"]
    for steps in pipelines(cfg):
        # the image loader is checked by the loading tests (MMOCR's ICDAR configs ask for
        # color_type='color_ignore_orientation', which the shared loader must accept)
        Compose(steps[1:])
    assert cfg["evaluation"]["metric"] == "hmean-iou"


@pytest.mark.parametrize("name", ["dbnet/dbnet_r18_synth_cpu.py", "psenet/psenet_r50_synth_cpu.py",
                                  "panet/panet_r18_synth_cpu.py",
                                  "fcenet/fcenet_r50_synth_curved_cpu.py",
                                  "textsnake/textsnake_r50_synth_curved_cpu.py"])
def test_cpu_demo_trains_and_evaluates(name, tmp_path):
    cfg = Config.fromfile(os.path.join(REPO, "configs/textdet", name)).to_dict()
    generate(str(tmp_path), num_train=2, num_test=2, seed=0, size=128,
             curved=cfg["synth_data"].get("curved", False))
    data = copy.deepcopy(cfg["data"])
    for split in ("train", "val"):
        for key in ("ann_file", "img_prefix"):
            data[split][key] = data[split][key].replace(cfg["data_root"], str(tmp_path))
    train = registry.build(registry.DATASETS, data["train"], "data.train")
    val = registry.build(registry.DATASETS, dict(data["val"], test_mode=True), "data.val")
    model = registry.build(registry.MODELS, cfg["model"], "model")
    np.random.seed(0)
    losses = model(collate([train[0], train[1]]))
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    model.eval()
    with torch.no_grad():
        results = model(collate([val[0], val[1]]), return_loss=False)
    metrics = val.evaluate(results, **{k: v for k, v in cfg["evaluation"].items()
                                       if k not in ("interval", "save_best", "metric")})
    assert set(metrics) == {"hmean-iou:recall", "hmean-iou:precision", "hmean-iou:hmean"}

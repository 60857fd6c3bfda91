"""DBNet++ (R50-DCNv2, adaptive scale fusion) trains and evaluates on 2 real DeepSpeed ranks
under ZeRO-3, whose parameter partitioning the deformable convolutions and their offset convs
must survive; the exported weights load into a plain model with MMOCR's names."""
import json
import os
import subprocess
import sys

import pytest
import torch

from ocr_ds import registry
from ocr_ds.config import Config
from ocr_ds.engine.dist import free_port

pytestmark = pytest.mark.slow
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
CONFIG = os.path.join(ROOT, "configs", "textdet", "dbnetpp", "dbnetpp_r50dcnv2_synth_cpu.py")


def test_dbnetpp_trains_and_evaluates_under_zero3_on_two_ranks(tmp_path):
    data, work = tmp_path / "data", tmp_path / "work"
    paths = []
    for split, ann in (("train", "training"), ("val", "test"), ("test", "test")):
        paths += [f"data.{split}.ann_file={data}/instances_{ann}.json",
                  f"data.{split}.img_prefix={data}/imgs"]
    opts = [f"synth_data.out_dir={data}", "synth_data.num_train=4", "synth_data.num_test=2",
            "synth_data.size=128", *paths, "data.samples_per_gpu=1",
            "data.val_dataloader.samples_per_gpu=1", "data.workers_per_gpu=0",
            "data.persistent_workers=False", "data.train.pipeline.5.target_size=(128,128)",
            "data.val.pipeline.1.img_scale=(128,128)", "runner.max_epochs=1",
            "log_config.interval=1", "checkpoint_config.interval=1",
            "deepspeed.zero_optimization.stage=3"]
    bindir = os.path.dirname(sys.executable)
    cmd = [os.path.join(bindir, "deepspeed"), "--num_gpus", "2", "--master_port",
           str(free_port()), os.path.join(ROOT, "ocr_ds", "train.py"), "--config", CONFIG,
           "--work-dir", str(work), "--seed", "0", "--cfg-options", *opts]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1",
               PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    (log,) = [p for p in os.listdir(work) if p.endswith(".log.json")]
    with open(work / log) as f:
        records = [json.loads(line) for line in f]
    assert "world_size: 2" in records[0]["env_info"]
    (text,) = [p for p in os.listdir(work) if p.endswith(".log")]
    assert '"stage": 3' in (work / text).read_text()
    train = [r for r in records[1:] if r["mode"] == "train"]
    assert len(train) == 2 and all(torch.isfinite(torch.tensor(r["loss"])) for r in train)
    val = [r for r in records[1:] if r["mode"] == "val"]
    assert val and "hmean-iou:hmean" in val[-1]
    # ZeRO-3's partitioned weights gathered back: MMOCR's names, DCN offsets included
    out = tmp_path / "model.pth"
    subprocess.run([sys.executable, "-m", "ocr_ds.tools.export", str(work / "epoch_1"),
                    str(out)], check=True, cwd=ROOT, capture_output=True, timeout=300)
    state = torch.load(out, weights_only=True)["state_dict"]
    model = registry.build(registry.MODELS, Config.fromfile(CONFIG).to_dict()["model"], "model")
    model.load_state_dict(state, strict=True)
    assert "backbone.layer3.0.conv2.conv_offset.weight" in state
    assert "neck.asf_attn.attention_wise.conv.weight" in state

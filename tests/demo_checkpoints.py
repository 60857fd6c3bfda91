"""The demo checkpoints ``test.py`` is tested on (fixture ``demo_checkpoints`` in tests/conftest.py).

``make_demo_checkpoints``: the CRNN and DBNet demo configs on tiny generated data sets, each trained
once per session for a couple of iterations through ``ocr_ds/train.py`` (CRNN by 2 DeepSpeed
ranks at ZeRO-3, so its checkpoint is a partitioned one; DBNet by one process), plus the
other checkpoint forms ``test.py`` reads: an exported ``.pth`` and an MMOCR model-zoo ``.pth``.
The models are barely trained (two iterations, a tiny learning rate), but their predictions'
scores differ from image to image: a mix-up of order or a duplicate shows in the ``--out``
files, which the tests compare byte for byte.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from types import SimpleNamespace

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)

CRNN_CONFIG = """_base_ = [{root!r} + '/configs/textrecog/crnn/crnn_synth_cpu.py']
data_root = {data!r}
synth_data = None
parser = dict(type='LineStrParser', keys=['filename', 'text'], keys_idx=[0, 1], separator=' ')
train_set = dict(type='OCRDataset', img_prefix=data_root + '/train',
                 ann_file=data_root + '/train_label.txt', pipeline={{{{ _base_.pipeline }}}},
                 loader=dict(type='AnnFileLoader', file_format='txt', parser=parser))
test_set = dict(train_set, img_prefix=data_root + '/test', ann_file=data_root + '/test_label.txt',
                test_mode=True)
data = dict(samples_per_gpu=16, workers_per_gpu=0, persistent_workers=False,
            val_dataloader=dict(samples_per_gpu=8), test_dataloader=dict(samples_per_gpu=8),
            train=dict(type='UniformConcatDataset', datasets=[train_set]),
            val=dict(type='UniformConcatDataset', datasets=[test_set]),
            test=dict(type='UniformConcatDataset', datasets=[test_set]))
optimizer = dict(type='Adam', lr=1e-5)
lr_config = dict(_delete_=True, policy='fixed')
runner = dict(type='EpochBasedRunner', max_epochs=1)
checkpoint_config = dict(interval=1)
evaluation = dict(interval=1, metric='acc')
log_config = dict(interval=1)
"""

DBNET_CONFIG = """_base_ = [{root!r} + '/configs/textdet/dbnet/dbnet_r18_synth_cpu.py']
data_root = {data!r}
synth_data = None
test_set = dict(type='IcdarDataset', ann_file=data_root + '/instances_test.json',
                img_prefix=data_root + '/imgs', pipeline={{{{ _base_.test_pipeline }}}})
data = dict(samples_per_gpu=4, workers_per_gpu=0, persistent_workers=False,
            val_dataloader=dict(samples_per_gpu=3), test_dataloader=dict(samples_per_gpu=3),
            train=dict(ann_file=data_root + '/instances_training.json',
                       img_prefix=data_root + '/imgs'),
            val=test_set, test=test_set)
runner = dict(type='EpochBasedRunner', max_epochs=1)
checkpoint_config = dict(interval=1)
log_config = dict(interval=1)
"""


# a seed whose barely trained CRNN reads the test crops differently (24 texts, 37 scores over
# the 37 crops); with another, the model may predict one text (or blank) everywhere
CRNN_SEED = 14


def run_env() -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(var, None)
    return env


def run(cmd: list[str], timeout: int = 300, cwd: str = ROOT) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=run_env(), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def _mmocr_pth(exported: str, config: str, out: str) -> None:
    """What MMOCR's model zoo holds: mmcv's ``save_checkpoint`` + ``publish_model`` layout,
    ``{'meta': {...}, 'state_dict': OrderedDict}``, the config as text in ``meta``."""
    from collections import OrderedDict

    state = torch.load(exported, weights_only=True)["state_dict"]
    with open(config) as f:
        text = f.read()
    meta = {"mmcv_version": "1.7.2", "time": time.asctime(), "config": text, "seed": 0,
            "exp_name": os.path.basename(config), "epoch": 5, "iter": 3910,
            "env_info": "sys.platform: linux"}
    torch.save({"meta": meta, "state_dict": OrderedDict(state)}, out)


def make_demo_checkpoints(d) -> SimpleNamespace:
    """Generate the data, train, export and convert into the directory ``d`` (a Path)."""
    from ocr_ds.engine.dist import free_port
    from ocr_ds.tools import export, gen_det_data, gen_recog_data

    gen_recog_data.main([str(d / "recog"), "--num-train", "64", "--num-test", "37", "--seed",
                         "0", "--no-lmdb"])
    gen_det_data.main([str(d / "det"), "--num-train", "8", "--num-test", "11", "--seed", "0",
                       "--size", "128"])
    crnn, dbnet = str(d / "crnn.py"), str(d / "dbnet.py")
    with open(crnn, "w") as f:
        f.write(CRNN_CONFIG.format(root=ROOT, data=str(d / "recog")))
    with open(dbnet, "w") as f:
        f.write(DBNET_CONFIG.format(root=ROOT, data=str(d / "det")))
    train = os.path.join(ROOT, "ocr_ds", "train.py")
    run([os.path.join(BIN, "deepspeed"), "--num_gpus", "2", "--master_port", str(free_port()),
         train, "--config", crnn, "--work-dir", str(d / "wd_crnn"), "--no-validate",
         "--seed", str(CRNN_SEED), "--cfg-options", "deepspeed.zero_optimization.stage=3"])
    run([sys.executable, train, dbnet, "--work-dir", str(d / "wd_det"), "--no-validate",
         "--seed", "0"])
    exported = str(d / "crnn_exported.pth")
    export.export(str(d / "wd_crnn" / "epoch_1"), exported)
    _mmocr_pth(exported, crnn, str(d / "crnn_mmocr.pth"))
    return SimpleNamespace(
        dir=d, crnn=crnn, dbnet=dbnet,
        crnn_zero3=str(d / "wd_crnn" / "epoch_1"), crnn_work_dir=str(d / "wd_crnn"),
        crnn_exported=exported, crnn_mmocr=str(d / "crnn_mmocr.pth"),
        det_ckpt=str(d / "wd_det" / "epoch_1"), recog_size=37, det_size=11)

"""Checkpoints we write load with ``torch.load(weights_only=True)``; foreign ones need a flag.

Every file a training run writes loads weights-only, except DeepSpeed's ZeRO optimizer-state
files (``*zero_pp_rank_*optim_states.pt``), which DeepSpeed itself pickles with Python objects:
we read those only inside a checkpoint directory we wrote (it holds ``ocr_ds_meta.json``).
"""
from __future__ import annotations

import fnmatch
import glob
import os
import pickle

import pytest
import torch
from helpers import train

from ocr_ds.checkpoint_io import load_checkpoint_any
from ocr_ds.errors import UserError


@pytest.fixture(scope="module")
def zero1_run(tmp_path_factory):
    wd = str(tmp_path_factory.mktemp("zero1") / "wd")
    train(["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=2",
           "deepspeed.zero_optimization.stage=1", "checkpoint_config.interval=1"])
    return wd


def test_every_file_we_write_loads_weights_only(zero1_run):
    files = [p for p in glob.glob(os.path.join(zero1_run, "**", "*.pt*"), recursive=True)
             if os.path.isfile(p)]
    zero = [p for p in files if fnmatch.fnmatch(os.path.basename(p), "*zero_pp_rank_*optim_states.pt")]
    ours = sorted(set(files) - set(zero))
    names = {os.path.basename(p) for p in ours}
    # DeepSpeed's model states, our RNG states and the best weights are all there
    assert {"mp_rank_00_model_states.pt", "ocr_ds_rng_rank0.pt", "model.pth"} <= names, names
    assert zero, "ZeRO-1 wrote no optimizer-state files"
    for path in ours:
        torch.load(path, map_location="cpu", weights_only=True)
    # the ZeRO files really need the full unpickler (which is why only our dirs may use it)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(zero[0], map_location="cpu", weights_only=True)


def test_a_zero_dir_without_our_metadata_needs_the_flag(zero1_run, tmp_path):
    import shutil

    src = os.path.join(zero1_run, "epoch_2")
    ours, _ = load_checkpoint_any(src)  # ours: the ZeRO files are read
    foreign = str(tmp_path / "epoch_2")
    shutil.copytree(src, foreign)
    os.remove(os.path.join(foreign, "ocr_ds_meta.json"))
    with pytest.raises(UserError, match="without ocr_ds_meta.json .* pass --allow-unsafe-pickle"):
        load_checkpoint_any(foreign)
    theirs, _ = load_checkpoint_any(foreign, allow_unsafe_pickle=True)
    assert theirs.keys() == ours.keys()
    assert all(torch.equal(theirs[k], ours[k]) for k in ours)

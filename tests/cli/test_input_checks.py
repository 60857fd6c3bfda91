"""What the bad-input matrix (test_bad_input_matrix.py) does not table: its inputs made good get
past every check (so its cases fail for their reason), ``--cfg-options`` never evaluates code,
the data probe leaves no trace, ``--allow-unsafe-pickle``, the hostfile check against
DeepSpeed's own parser."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from bad_input_builders import GOOD_COCO, TOY, _write, det_case, mc_case, recog_case, recog_cfg
from ocr_ds.errors import run_cli


def test_cfg_options_never_evaluate_code(tmp_path, monkeypatch, capsys):
    """A value that would run code if evaluated stays a string, and no code runs."""
    from ocr_ds.config import Config, parse_cfg_options
    from ocr_ds.train import main

    monkeypatch.chdir(tmp_path)
    payload = "__import__('os').system('touch pwned')"
    parsed = parse_cfg_options([f"x={payload}", f"y=({payload})"])
    assert parsed["x"] == payload.replace(" ", "")  # whitespace is dropped, as in mmcv
    assert all(isinstance(v, str) for v in parsed["y"]), parsed
    cfg = Config.fromfile(TOY)
    cfg.merge_from_dict(parse_cfg_options([f"model.note={payload}", f"evil=[{payload}]"]))
    assert isinstance(cfg["model"]["note"], str)
    # a dry run with such values (they reach every part of the config) runs no code either
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main([TOY, "--dry-run", "--work-dir", str(tmp_path / "wd"), "--cfg-options",
                              f"work_dir_note={payload}", f"notes=({payload})"]))
    assert exc.value.code == 0
    assert os.listdir(tmp_path) == []


# -- the same inputs, made good, get past every check (so the cases above fail for their reason) --
class _Reached(Exception):
    pass


def _reach_engine(monkeypatch, tmp_path, argv: list[str]) -> None:
    """Run train.py in-process up to ``deepspeed.initialize``, which must be reached."""
    from ocr_ds.engine import builder
    from ocr_ds.train import main

    def reached(*a, **k):
        raise _Reached

    monkeypatch.chdir(tmp_path)
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(builder, "init_distributed", lambda *a, **k: None)
    monkeypatch.setattr(builder, "build_engine", reached)
    with pytest.raises(_Reached):
        main(argv + ["--work-dir", str(tmp_path / "wd")])


@pytest.mark.parametrize("good", ["recog", "recog-one-bad-image", "det", "mc-disk",
                                  "recog-bom", "det-bom", "config-bom"])
def test_good_data_passes_the_checks(good, tmp_path, monkeypatch):
    d = tmp_path / "in"
    bom = "\ufeff"  # editors on Windows start UTF-8 files with it; mmcv accepts it
    if good == "recog":
        argv = recog_case("a.png hello\n")(d)
    elif good == "recog-one-bad-image":  # one bad sample is skipped, not an error
        argv = recog_case("gone.png hello\na.png world\n")(d)
    elif good == "recog-bom":
        argv = recog_case(bom + "a.png hello\n")(d)
    elif good == "det":
        argv = det_case(GOOD_COCO)(d)
    elif good == "det-bom":
        argv = det_case(bom + json.dumps(GOOD_COCO))(d)
    elif good == "config-bom":
        argv = [_write(d / "cfg.py", bom + open(TOY).read())]
    else:
        argv = mc_case("mc_file_client_args = dict(backend='disk')\n", recog_cfg)(d)
    _reach_engine(monkeypatch, tmp_path, argv)


def test_probe_leaves_rng_and_skip_counts_as_they_were(tmp_path):
    import random

    from ocr_ds import registry
    from ocr_ds.config import Config
    from ocr_ds.engine.preflight import check_datasets

    cfg = Config.fromfile(recog_case("gone.png hello\na.png world\n")(tmp_path)[0])
    dataset = registry.build(registry.DATASETS, cfg["data"]["train"], "data.train")
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    check_datasets(dataset, None)
    assert not dataset.skipped.counts  # the probe skipped gone.png; training counts afresh
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    assert after == (random.random(), np.random.rand(), torch.rand(1).item())


def test_allow_unsafe_pickle_loads_a_foreign_checkpoint(tmp_path, monkeypatch, capsys):
    """With the flag a foreign pickle is loaded (train.py, export); what export writes is
    weights-only again."""
    from ocr_ds.models.toy import ToyRegressor
    from ocr_ds.tools.export import main as export

    ckpt = tmp_path / "foreign.pth"
    model = ToyRegressor(in_channels=1, size=8, hidden=32, out_features=4)
    torch.save({"state_dict": model.state_dict(), "meta": {"lr": np.float64(0.1)}}, ckpt)
    _reach_engine(monkeypatch, tmp_path, [TOY, "--load-from", str(ckpt), "--allow-unsafe-pickle"])
    out = tmp_path / "plain.pth"
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: export([str(ckpt), str(out), "--allow-unsafe-pickle"]))
    assert exc.value.code == 0
    got = torch.load(out, weights_only=True)["state_dict"]
    expected = model.state_dict()
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k].float() if expected[k].is_floating_point()
                           else expected[k]) for k in got)


def test_hostfile_check_agrees_with_deepspeeds_parser(tmp_path):
    """Every text DeepSpeed's runner accepts we accept with the same hosts and slots, and what
    it refuses we refuse (we also refuse slots=0 and a missing file, which it lets through)."""
    from deepspeed.launcher.runner import _parse_hostfile

    from ocr_ds.engine.hostfile import parse_hostfile
    from ocr_ds.errors import UserError

    texts = ["a slots=2\nb slots=4\n", "  a   slots=2  \n# x\n\nb\tslots=1 # gpus\n",
             "a slots=2extra\n", "a slots=2\na slots=3\n", "a slots=x\n", "a\n", "#only\n", "",
             "a slots= 2\n", "a b slots=2\n", "a slots=8\n#b slots=8\n", "a  slots=3 max_slots=4\n"]
    for i, text in enumerate(texts):
        path = tmp_path / f"h{i}"
        path.write_text(text)
        try:
            theirs = dict(_parse_hostfile(text.splitlines(keepends=True)))
        except ValueError:
            theirs = None
        try:
            ours = dict(parse_hostfile(str(path)))
        except UserError:
            ours = None
        assert ours == theirs, (text, ours, theirs)


def test_ds_train_sh_checks_the_hostfile_before_deepspeed(tmp_path):
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    hosts = _write(tmp_path / "hosts", "worker-1 slots=2\nworker-1 slots=2\n")
    proc = subprocess.run([os.path.join(root, "launch", "ds_train.sh"), hosts, TOY,
                           str(tmp_path / "wd")], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHON=sys.executable))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (f"error: hostfile {hosts}:2: host 'worker-1' again (first on "
                                   "line 1); expected each host once (write slots=N for N ranks "
                                   "on one host)")
    assert not (tmp_path / "wd").exists()


def test_probe_closes_the_lmdb_it_opened(tmp_path):
    import cv2

    from ocr_ds import fileio, registry
    from ocr_ds.engine.preflight import check_datasets
    from ocr_ds.tools.gen_recog_data import write_recog_lmdb

    db = tmp_path / "db"
    png = cv2.imencode(".png", np.full((8, 16), 99, np.uint8))[1].tobytes()
    write_recog_lmdb(str(db), ["ab", "cd"], [png, png])
    dataset = registry.build(registry.DATASETS, dict(
        type="OCRDataset", ann_file=str(db), img_prefix=str(db),
        loader=dict(type="AnnFileLoader", file_format="lmdb",
                    parser=dict(type="LineJsonParser", keys=["filename", "text"])),
        pipeline=[dict(type="LoadImageFromLMDB", color_type="grayscale"),
                  dict(type="ResizeOCR", height=8, min_width=8, max_width=8,
                       keep_aspect_ratio=False),
                  dict(type="DefaultFormatBundle"), dict(type="Collect", keys=["img"])]),
        "data.train")
    check_datasets(dataset, None)
    assert os.path.realpath(db) not in fileio.open_lmdb_environments()
    assert dataset[1]["img"].shape[-2:] == (8, 8)  # and reading afterwards opens it again
    assert os.path.realpath(db) in fileio.open_lmdb_environments()
    fileio.close_lmdb_environment(db)

"""``log_config.hooks`` with mmcv's ``WandbLoggerHook``, on real train.py runs.

A stand-in ``wandb`` package (first on PYTHONPATH) records every call the hook makes, so the
test reads exactly what would reach Weights & Biases: ``init`` with ``init_kwargs``,
``define_metric``, one ``log`` per text-log record with mmcv's tags and steps, the work dir's
files as an artifact, ``finish``; on 2 ranks only rank 0 calls it. A second run uses the real
library in offline mode (no account, no network) to check the calls are ones it accepts.
"""
from __future__ import annotations

import glob
import json
import os
import subprocess

import pytest

import helpers

FAKE_WANDB = '''
import json, os

def _rec(_call, *args, **kwargs):
    with open(os.environ["FAKE_WANDB_LOG"], "a") as f:
        f.write(json.dumps(dict(call=_call, args=args, kwargs=kwargs, pid=os.getpid())) + "\\n")

def init(**kwargs): _rec("init", **kwargs)
def define_metric(*args, **kwargs): _rec("define_metric", *args, **kwargs)
def log(*args, **kwargs): _rec("log", *args, **kwargs)
def log_artifact(artifact): _rec("log_artifact", artifact.name, artifact.type, artifact.files)
def finish(): _rec("finish")

class Artifact:
    def __init__(self, name, type):
        self.name, self.type, self.files = name, type, []
    def add_file(self, path, name=None):
        assert os.path.isfile(path)
        self.files.append(name)
'''

CONFIG = """_base_ = [{toy!r}]
log_config = dict(interval=2, hooks=[
    dict(type='TextLoggerHook'),
    dict(type='WandbLoggerHook', init_kwargs={init!r},
         define_metric_cfg={{'val/neg_mse_acc': 'max'}})])
"""


def _config(tmp_path, init) -> str:
    path = tmp_path / "cfg.py"
    path.write_text(CONFIG.format(toy=helpers.TOY, init=init))
    return str(path)


def _run(tmp_path, args, ranks=1, extra_env=None, config=None):
    env = dict(helpers.env(), **(extra_env or {}))
    cmd = helpers.command(args, ranks, config=config)
    proc = subprocess.run(cmd, cwd=helpers.ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow
def test_wandb_logger_sends_mmcv_tags_from_rank_0_only(tmp_path):
    fake = tmp_path / "fake" / "wandb"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(FAKE_WANDB)
    calls_file = tmp_path / "calls.jsonl"
    wd = str(tmp_path / "wd")
    _run(tmp_path, ["--work-dir", wd, "--seed", "0"], ranks=2,
         config=_config(tmp_path, dict(project="ocr", name="toy")),
         extra_env=dict(FAKE_WANDB_LOG=str(calls_file),
                        PYTHONPATH=str(tmp_path / "fake") + os.pathsep + helpers.ROOT))
    calls = [json.loads(line) for line in calls_file.read_text().splitlines()]
    assert len({c["pid"] for c in calls}) == 1                 # one rank talks to wandb
    assert [c["call"] for c in calls[:2]] == ["init", "define_metric"]
    assert calls[0]["kwargs"] == dict(project="ocr", name="toy")
    assert calls[1]["args"] == ["val/neg_mse_acc"] and calls[1]["kwargs"] == dict(summary="max")
    assert [c["call"] for c in calls[-2:]] == ["log_artifact", "finish"]
    name, kind, files = calls[-2]["args"]
    (log_name,) = [os.path.basename(p) for p in glob.glob(os.path.join(wd, "*.log"))]
    assert (name, kind) == ("artifacts", "model")
    assert sorted(files) == sorted(["cfg.py", log_name, log_name + ".json"])

    # one log call per record of the JSON log: mmcv's tags, step = iteration + 1
    logs = [c for c in calls if c["call"] == "log"]
    records = helpers.json_log(wd)[1:]
    iters_per_epoch = 6                                        # 48 samples, 2 ranks of 4
    assert len(logs) == len(records) == 3 * 3 + 3              # 3 epochs, log interval 2
    for call, rec in zip(logs, records):
        (tags,) = call["args"]
        mode = rec["mode"]
        expected = {f"{mode}/{k}": v for k, v in rec.items()
                    if k not in ("mode", "epoch", "iter", "lr", "memory", "time", "data_time")}
        got = {k: round(v, 5) for k, v in tags.items() if k.startswith(mode + "/")}
        assert got == pytest.approx(expected, rel=1e-4), (rec, tags)
        assert set(tags) - set(got) == {"learning_rate", "momentum"}
        assert tags["momentum"] == 0.9 and tags["learning_rate"] == pytest.approx(rec.get(
            "lr", tags["learning_rate"]), rel=1e-3)
        # mmcv's runner.iter + 1: a training line's iteration; an evaluation after its epoch
        step = (rec["epoch"] - 1) * iters_per_epoch + rec["iter"] if mode == "train" else \
            rec["epoch"] * iters_per_epoch + 1
        assert call["kwargs"] == dict(step=step, commit=False)
    assert any(k.startswith("val/") for c in logs for k in c["args"][0])


@pytest.mark.slow
def test_wandb_logger_runs_with_the_real_library_offline(tmp_path):
    wd = str(tmp_path / "wd")
    init = dict(mode="offline", dir=str(tmp_path), project="ocr")
    _run(tmp_path, ["--work-dir", wd, "--seed", "0", "--cfg-options", "total_epochs=1"],
         config=_config(tmp_path, init), extra_env=dict(WANDB_SILENT="true"))
    (run_file,) = glob.glob(str(tmp_path / "wandb" / "offline-run-*" / "run-*.wandb"))
    data = open(run_file, "rb").read()
    # the run's records hold the logged keys (protobuf strings) and the artifact's file names
    for key in (b"train/loss_mse", b"val/neg_mse_acc", b"learning_rate", b"momentum",
                b"artifacts", b"cfg.py"):
        assert key in data, key


def test_wandb_logger_bad_arguments_are_one_line(tmp_path):
    from ocr_ds import registry
    from ocr_ds.errors import UserError

    cases = [
        (dict(init_kwargs="ocr"), "log_config.hooks.1.init_kwargs: expected a dict or None "
         "(got 'ocr')"),
        (dict(define_metric_cfg={"val/acc": "top"}), "log_config.hooks.1.define_metric_cfg: "
         "'val/acc': expected one of 'min', 'max', 'mean', 'best', 'last', 'none' (got 'top')"),
        (dict(out_suffix=[".log", 3]), "log_config.hooks.1.out_suffix: expected a string or a "
         "list of strings (got ['.log', 3])"),
        (dict(projct="ocr"), "log_config.hooks.1.projct: not an argument of WandbLoggerHook"),
    ]
    for args, message in cases:
        with pytest.raises(UserError) as info:
            registry.build(registry.LOGGERS, dict(type="WandbLoggerHook", **args),
                           "log_config.hooks.1")
        assert str(info.value).startswith(message), str(info.value)

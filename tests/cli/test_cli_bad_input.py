"""Bad input to ``ocr_ds/train.py``: one line naming what is wrong and what was expected, exit 2,
no traceback, nothing created. Run in-process (every case fails before any process group)."""
from __future__ import annotations

import os

import pytest

from ocr_ds.errors import run_cli
from ocr_ds.train import main

FIX = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "engine")
TOY = os.path.join(FIX, "toy.py")

# (case id, argv after the config, config file or None for TOY, expected message fragment)
CASES = [
    # flags
    ("no-config", None, [], "config: expected a config file"),
    ("missing-config", "nope.py", [], "nope.py"),
    ("unknown-flag", TOY, ["--frobnicate"], "unrecognized arguments: --frobnicate"),
    ("gpus-and-gpu-ids", TOY, ["--gpus", "2", "--gpu-ids", "0"], "not allowed with argument"),
    ("gpus-zero", TOY, ["--gpus", "0"], "--gpus: expected a positive integer (got 0)"),
    ("gpus-not-int", TOY, ["--gpus", "two"], "argument --gpus: invalid int value: 'two'"),
    ("gpu-ids-negative", TOY, ["--gpu-ids", "-1"], "--gpu-ids: expected device ids >= 0"),
    ("seed-negative", TOY, ["--seed", "-3"], "--seed: expected an integer in [0, 2**32) (got -3)"),
    ("bad-launcher", TOY, ["--launcher", "k8s"], "argument --launcher: invalid choice: 'k8s'"),
    ("missing-load-from", TOY, ["--load-from", "/nonexistent.pth"], "--load-from: '/nonexistent.pth' does not exist"),
    ("missing-resume-from", TOY, ["--resume-from", "/nonexistent"], "--resume-from: '/nonexistent' does not exist"),
    ("missing-mc-config", TOY, ["--mc-config", "/nonexistent.py"], "--mc-config: '/nonexistent.py' does not exist"),
    ("missing-ds-config", TOY, ["--deepspeed-config", "/nonexistent.json"], "--deepspeed-config: '/nonexistent.json' does not exist"),
    ("config-twice", TOY, ["--config", os.path.join(FIX, "toy_clip_tb.py")], "config given twice"),
    # --cfg-options tokens
    ("option-no-equals", TOY, ["--cfg-options", "optimizer.lr"], "optimizer.lr"),
    ("option-unbalanced", TOY, ["--cfg-options", "data.x=[1,2"], "data.x: expected balanced brackets"),
    ("option-bad-index", TOY, ["--cfg-options", "log_config.hooks.5.type=X"], "out of range"),
    # config values
    ("unknown-optimizer", TOY, ["--cfg-options", "optimizer.type=Sgdd"], "optimizer.type"),
    ("clip-norm-type", os.path.join(FIX, "toy_clip_tb.py"),
     ["--cfg-options", "optimizer_config.grad_clip.norm_type=1"],
     "optimizer_config.grad_clip.norm_type: DeepSpeed clips by L2 norm only (got 1)"),
    ("optimizer-hook-type", TOY, ["--cfg-options", "optimizer_config.type=Nope"], "optimizer_config.type"),
    ("micro-batch-zero", TOY, ["--cfg-options", "data.samples_per_gpu=0"], "samples_per_gpu"),
    ("fp16-on-cpu", TOY, ["--cfg-options", "fp16.loss_scale=512."], "fp16=None bf16.enabled=True"),
    ("zero-stage-7", TOY, ["--cfg-options", "deepspeed.zero_optimization.stage=7"], "zero_optimization.stage"),
    ("ds-scheduler", TOY, ["--cfg-options", "deepspeed.scheduler.type=WarmupLR"], "scheduler"),
    ("unknown-policy", TOY, ["--cfg-options", "lr_config.policy=Wobbly"], "lr_config.policy"),
    ("warmup-type", TOY, ["--cfg-options", "lr_config.warmup=cos"], "lr_config.warmup: expected one of None, 'constant', 'linear', 'exp' (got 'cos')"),
    ("epochs-zero", TOY, ["--cfg-options", "total_epochs=0"], "total_epochs: expected a positive integer (got 0)"),
    ("runner-type", TOY, ["--cfg-options", "runner.type=Looper", "runner.max_epochs=2"], "runner.type"),
    ("epochs-disagree", TOY, ["--cfg-options", "runner.type=EpochBasedRunner", "runner.max_epochs=4"], "total_epochs"),
    ("unknown-model", TOY, ["--cfg-options", "model.type=Transformer9000"], "model.type: unknown 'Transformer9000'"),
    ("model-bad-arg", TOY, ["--cfg-options", "model.hidden_size=3"], "model: ToyRegressor"),
    ("unknown-dataset", TOY, ["--cfg-options", "data.train.type=Imagenet"], "data.train.type: unknown 'Imagenet'"),
    ("loader-typo", TOY, ["--cfg-options", "data.shufle=True"], "unknown loader setting"),
    ("workers-negative", TOY, ["--cfg-options", "data.workers_per_gpu=-1"], "data.workers_per_gpu"),
    ("eval-interval", TOY, ["--cfg-options", "evaluation.interval=0"], "evaluation.interval: expected a positive integer (got 0)"),
    ("eval-rule", TOY, ["--cfg-options", "evaluation.rule=bigger"], "evaluation.rule"),
    ("ckpt-interval", TOY, ["--cfg-options", "checkpoint_config.interval=x"], "checkpoint_config.interval"),
    ("log-interval", TOY, ["--cfg-options", "log_config.interval=0"], "log_config.interval"),
    ("unknown-logger", TOY, ["--cfg-options", "log_config.hooks.0.type=WandbLoggerHook"], "log_config.hooks.0.type: unknown 'WandbLoggerHook'"),
    ("custom-hook", TOY, ["--cfg-options", "custom_hooks=[dict]"], "custom_hooks.0"),
    ("port", TOY, ["--cfg-options", "dist_params.port=70000"], "dist_params.port: expected a TCP port 1-65535 (got 70000)"),
]


@pytest.mark.parametrize("case,config,argv,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_one_line_exit_2_nothing_created(case, config, argv, message, tmp_path, capsys,
                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(var, raising=False)
    # in-process: no process group (every case must fail before DeepSpeed is started)
    from ocr_ds.engine import builder

    def no_engine(*a, **k):
        raise AssertionError("bad input reached deepspeed.initialize")

    monkeypatch.setattr(builder, "init_distributed", lambda *a, **k: None)
    monkeypatch.setattr(builder, "build_engine", no_engine)
    work_dir = tmp_path / "wd"
    args = ([config] if config else []) + list(argv) + ["--work-dir", str(work_dir)]
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main(args))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("error: ")
    assert message in err, err
    assert not work_dir.exists()
    assert os.listdir(tmp_path) == []


def test_at_least_25_distinct_cases():
    assert len({c[3] for c in CASES}) >= 25

"""The dry run checks the whole config: a table of configs with several problems each.

Each row runs ``train.py CONFIG --dry-run`` (or ``test.py ... --dry-run``) in-process and
asserts that every problem is listed, one ``error: <full key path>: ...`` line each, in one
run; that the exit code is 2, there is no traceback and nothing is created. The key paths are
the ones ``--cfg-options`` takes, so the fix the message suggests works.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

from ocr_ds.errors import run_cli

ROOT = Path(__file__).resolve().parents[2]
TOY = str(ROOT / "tests" / "fixtures" / "engine" / "toy.py")
CRNN = str(ROOT / "configs" / "textrecog" / "crnn" / "crnn_synth_cpu.py")
DBNET = str(ROOT / "configs" / "textdet" / "dbnet" / "dbnet_r18_synth_cpu.py")
PSENET = str(ROOT / "configs" / "textdet" / "psenet" / "psenet_r50_synth_cpu.py")
DBNETPP = str(ROOT / "configs" / "textdet" / "dbnetpp" / "dbnetpp_r50dcnv2_synth_cpu.py")
PANET = str(ROOT / "configs" / "textdet" / "panet" / "panet_r18_synth_cpu.py")
FCENET = str(ROOT / "configs" / "textdet" / "fcenet" / "fcenet_r50_synth_curved_cpu.py")
TEXTSNAKE = str(ROOT / "configs" / "textdet" / "textsnake" / "textsnake_r50_synth_curved_cpu.py")
SAR = str(ROOT / "configs" / "textrecog" / "sar" / "sar_synth_cpu.py")
ROBUST = str(ROOT / "configs" / "textrecog" / "robust_scanner" / "robustscanner_r31_academic.py")
SDMGR = str(ROOT / "configs" / "kie" / "sdmgr" / "sdmgr_unet16_60e_wildreceipt.py")

MANY_IN_ONE_FILE = f"""_base_ = [{TOY!r}]
model = dict(hidden='wide')
optimizer = dict(type='SGDD')
lr_config = dict(warmup='cos')
runner = dict(type='EpochBasedRunner', max_epochs=4)
checkpoint_config = dict(max_keep_ckpts='all')
"""

# (case id, config, --cfg-options tokens or a config file's text, expected key paths)
CASES = [
    ("toy-schedule", TOY, ["total_epochs=0", "lr_config.power=x"],
     {"total_epochs", "lr_config.power"}),
    ("toy-optimizer-type-and-value", TOY, ["optimizer.lr=-1", "optimizer.nesterov=maybe"],
     {"optimizer.lr", "optimizer.nesterov"}),
    ("toy-type-names", TOY, ["model.type=X", "data.train.type=Y", "data.val.type=Z"],
     {"model.type", "data.train.type", "data.val.type"}),
    ("toy-hooks", TOY, ["checkpoint_config.interval=x", "log_config.interval=0",
                        "custom_hooks=[dict]", "evaluation.interval=0"],
     {"checkpoint_config.interval", "log_config.interval", "custom_hooks.0",
      "evaluation.interval"}),
    ("toy-loaders", TOY, ["data.train_dataloader.workers_per_gpu=-1",
                          "data.val_dataloader.shuffle=x"],
     {"data.train_dataloader.workers_per_gpu", "data.val_dataloader.shuffle"}),
    ("toy-process", TOY, ["mp_start_method=thread", "dist_params.port=0",
                          "stop_check_interval=often"],
     {"mp_start_method", "dist_params.port", "stop_check_interval"}),
    ("toy-run-length-and-out-dir", TOY, ["runner.type=IterBasedRunner", "runner.max_iters=0",
                                         "checkpoint_config.out_dir=/proc/nope"],
     {"runner.max_iters", "checkpoint_config.out_dir"}),
    ("toy-translation-pieces", TOY, ["optimizer_config.type=Nope", "data.samples_per_gpu=0"],
     {"optimizer_config.type", "data.samples_per_gpu"}),
    ("toy-config-file", None, MANY_IN_ONE_FILE,
     {"model.hidden", "optimizer.type", "lr_config.warmup", "total_epochs",
      "checkpoint_config.max_keep_ckpts"}),
    ("crnn-components", CRNN, ["model.decoder.rnn_flag=yes", "model.loss.type=CTC"],
     {"model.decoder.rnn_flag", "model.loss.type"}),
    ("crnn-datasets", CRNN, ["data.train.datasets.0.loader.parser.type=Foo",
                             "data.val.datasets.0.pipeline.1.height=x",
                             "data.train.datasets.0.img_prefix=3"],
     {"data.train.datasets.0.loader.parser.type", "data.val.datasets.0.pipeline.1.height",
      "data.train.datasets.0.img_prefix"}),
    ("crnn-metric", CRNN, ["evaluation.metric=hmean-iou", "model.backbone.leaky_relu=no"],
     {"evaluation.metric", "model.backbone.leaky_relu"}),
    ("crnn-save-best", CRNN, ["evaluation.save_best=word_acc", "data.val_dataloader.drop_last=0"],
     {"evaluation.save_best", "data.val_dataloader.drop_last"}),
    ("crnn-optimizer", CRNN, ["optimizer.betas=[a,b]", "optimizer.eps=-1"],
     {"optimizer.betas", "optimizer.eps"}),
    ("crnn-schedule", CRNN, ["runner.max_epochs=0", "lr_config.warmup=cos"],
     {"runner.max_epochs", "lr_config.warmup"}),
    ("dbnet-model", DBNET, ["model.backbone.depth=x", "model.neck.lateral_channels=6.5",
                            "model.bbox_head.type=DBHed", "model.backbone.foo=1"],
     {"model.backbone.depth", "model.neck.lateral_channels", "model.bbox_head.type",
      "model.backbone.foo"}),
    ("dbnet-pipelines", DBNET, ["data.train.pipeline.3.tyep=x", "data.val.pipeline.1.flip=True",
                                "data.train.pipeline.0.type=LoadImage"],
     {"data.train.pipeline.3.tyep", "data.val.pipeline.1.flip", "data.train.pipeline.0.type"}),
    ("dbnet-evaluation-and-hooks", DBNET, ["evaluation.metric=acc", "evaluation.rule=bigger",
                                           "evaluation.min_score_thr=x",
                                           "log_config.hooks.0.type=Wandb",
                                           "checkpoint_config.out_dir=/proc/nope"],
     {"evaluation.metric", "evaluation.rule", "evaluation.min_score_thr",
      "log_config.hooks.0.type", "checkpoint_config.out_dir"}),
    ("dbnet-schedule-and-optimizer", DBNET, ["total_epochs=3", "lr_config.policy=Wobbly",
                                             "optimizer.lr=-1"],
     {"total_epochs", "lr_config.policy", "optimizer.lr"}),
    ("psenet-components", PSENET, ["model.bbox_head.loss.type=PSELos",
                                   "model.neck.in_channels=256"],
     {"model.bbox_head.loss.type", "model.neck.in_channels"}),
    ("psenet-datasets", PSENET, ["data.train.type=IcdarDatset", "data.val.ann_file=3",
                                 "data.val.pipeline.1.transforms.0.keep_ratio=yes"],
     {"data.train.type", "data.val.ann_file", "data.val.pipeline.1.transforms.0.keep_ratio"}),
    # layer settings (norm_cfg, dcn, init_cfg, ...): their type names, from registry tables
    ("dbnetpp-layer-names", DBNETPP, ["model.backbone.dcn.type=DCNv3",
                                      "model.backbone.norm_cfg.type=BatchNorm",
                                      "model.neck.depth=x",
                                      "model.bbox_head.init_cfg.override.type=Foo"],
     {"model.backbone.dcn.type", "model.backbone.norm_cfg.type", "model.neck.depth",
      "model.bbox_head.init_cfg.override.type"}),
    ("panet-components", PANET, ["model.neck.fpem_repeat=x", "model.bbox_head.loss.type=PANLos",
                                 "model.neck.conv_cfg.type=Conv",
                                 "model.backbone.norm_cfg.type=SyncBatchNorm"],
     {"model.neck.fpem_repeat", "model.bbox_head.loss.type", "model.neck.conv_cfg",
      "model.backbone.norm_cfg.type"}),
    ("fcenet-components", FCENET, ["model.bbox_head.fourier_degree=x",
                                   "data.train.pipeline.2.type=FCENetTarget",
                                   "model.bbox_head.loss.type=FCELos",
                                   "model.backbone.dcn.type=DCN3"],
     {"model.bbox_head.fourier_degree", "data.train.pipeline.2.type",
      "model.bbox_head.loss.type", "model.backbone.dcn.type"}),
    ("textsnake-components", TEXTSNAKE, ["model.neck.in_channels=5",
                                         "model.bbox_head.postprocessor.type=Nope",
                                         "model.bbox_head.loss.ohem_ratio=x"],
     {"model.neck.in_channels", "model.bbox_head.postprocessor.type",
      "model.bbox_head.loss.ohem_ratio"}),
    ("sar-components", SAR, ["model.decoder.d_k=x", "model.encoder.type=SAREnc",
                             "model.label_convertor.max_seq_len=long"],
     {"model.decoder.d_k", "model.encoder.type", "model.label_convertor.max_seq_len"}),
    ("robustscanner-components", ROBUST, ["model.decoder.hybrid_decoder.type=SeqAttn",
                                          "model.encoder.in_channels=x",
                                          "model.backbone.base_channels=3.5"],
     {"model.decoder.hybrid_decoder.type", "model.encoder.in_channels",
      "model.backbone.base_channels"}),
    ("sdmgr-components", SDMGR, ["model.backbone.upsample_cfg.type=InterpConvv",
                                 "model.bbox_head.num_gnn=x"],
     {"model.backbone.upsample_cfg.type", "model.bbox_head.num_gnn"}),
]


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _key_paths(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    return [line[len("error: "):].split(": ", 1)[0] for line in lines]


def _run(main, argv: list[str], tmp_path: Path, capfd) -> str:
    before = _snapshot(tmp_path)
    capfd.readouterr()
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main(argv))
    err = capfd.readouterr().err
    assert exc.value.code == 2, err
    assert "Traceback" not in err, err
    assert _snapshot(tmp_path) == before  # nothing created (no work dir, no output)
    return err


@pytest.mark.parametrize("case,config,options,expected", CASES, ids=[c[0] for c in CASES])
def test_dry_run_lists_every_problem(case, config, options, expected, tmp_path, monkeypatch,
                                     capfd):
    from ocr_ds.train import main

    monkeypatch.chdir(tmp_path)
    if config is None:
        config = str(tmp_path / "many.py")
        Path(config).write_text(options)
        options = []
    argv = [config, "--dry-run", "--work-dir", str(tmp_path / "wd")]
    err = _run(main, argv + (["--cfg-options", *options] if options else []), tmp_path, capfd)
    keys = _key_paths(err)
    assert set(keys) == expected, err
    assert len(err.strip().splitlines()) == len(set(err.strip().splitlines())), err


def test_test_py_dry_run_lists_every_problem(tmp_path, monkeypatch, capfd):
    from ocr_ds.test import main

    monkeypatch.chdir(tmp_path)
    ckpt = tmp_path / "any.pth"
    ckpt.write_bytes(b"")  # not read: the config's problems come first
    err = _run(main, [CRNN, str(ckpt), "--eval", "bleu", "--dry-run", "--cfg-options",
                      "model.type=CRNN", "data.test.datasets.0.pipeline.1.height=x"],
               tmp_path, capfd)
    assert set(_key_paths(err)) == {"--eval", "model.type", "data.test.datasets.0.pipeline.1.height"}


def test_real_run_checks_the_same_before_anything(tmp_path, monkeypatch, capfd):
    """Without --dry-run the same lines come before the process group or any file exists."""
    from ocr_ds.engine import builder
    from ocr_ds.train import main

    def no_dist(*a, **k):
        raise AssertionError("the config check must come before the process group")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(builder, "init_distributed", no_dist)
    _, _, options, expected = CASES[[c[0] for c in CASES].index("dbnet-evaluation-and-hooks")]
    err = _run(main, [DBNET, "--work-dir", str(tmp_path / "wd"), "--cfg-options", *options],
               tmp_path, capfd)
    assert set(_key_paths(err)) == expected


SHIPPED = sorted(p for p in glob.glob(str(ROOT / "configs" / "**" / "*.py"), recursive=True)
                 if "_base_" not in p)


@pytest.mark.parametrize("config", SHIPPED, ids=[os.path.relpath(p, ROOT / "configs")
                                                 for p in SHIPPED])
def test_shipped_configs_pass_the_check(config):
    """No false alarm on the configs we ship (MMOCR's own, and the demos)."""
    from ocr_ds.config import Config
    from ocr_ds.config.check import check_config, config_notes

    cfg = Config.fromfile(config)
    assert check_config(cfg, build=False) == []
    assert config_notes(cfg) == []  # no "did you mean" on their own variables either
    assert check_config(cfg, mode="test", build=False,
                        eval_metrics=[(cfg.get("evaluation") or {}).get("metric", "acc")]) == []


def test_a_misspelt_top_level_key_is_noted_once(tmp_path, monkeypatch, capfd):
    """mmcv ignores any top-level key it does not read; one a typo away from a key ocr_ds
    reads gets a note (from rank 0 only), a config's own variables none."""
    from ocr_ds.train import main

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "typo.py"
    cfg.write_text(f"_base_ = [{str(ROOT / 'tests/fixtures/engine/toy.py')!r}]\n"
                   "lr_confg = dict(policy='step', step=[2])\ncheckpoint_confg = dict()\n"
                   "train_pipeline = []\ndata_root = 'x'\nimg_norm_cfg = dict()\n")
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: main([str(cfg), "--dry-run"]))
    assert exc.value.code == 0
    notes = [line for line in capfd.readouterr().err.splitlines() if "did you mean" in line]
    assert notes == [
        "note: lr_confg: not a key ocr_ds reads (it is ignored); did you mean 'lr_config'?",
        "note: checkpoint_confg: not a key ocr_ds reads (it is ignored); did you mean "
        "'checkpoint_config'?"]
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(SystemExit):
        run_cli(lambda: main([str(cfg), "--dry-run"]))
    assert "did you mean" not in capfd.readouterr().err


def test_evaluation_by_epoch_in_an_iteration_run_is_false_as_in_mmocr():
    """MMOCR's train_detector sets evaluation.by_epoch from the runner type: an IterBasedRunner
    has no epochs to count, so True is replaced (and noted); an epoch-based run keeps a
    config's False (evaluate every N iterations; MMOCR would override it)."""
    from ocr_ds.config.check import config_notes
    from ocr_ds.engine.hooks.build import build_hooks
    from ocr_ds.engine.hooks.evaluation import EvalHook

    iters = dict(runner=dict(type="IterBasedRunner", max_iters=20),
                 evaluation=dict(interval=10, by_epoch=True), data=dict(val=dict(type="X")))
    (hook,) = [h for h in build_hooks(iters, schedule=None, runner_by_epoch=False, validate=True)
               if isinstance(h, EvalHook)]
    assert hook.by_epoch is False
    assert config_notes(iters) == [
        "evaluation.by_epoch: True is replaced by False: as in MMOCR, an IterBasedRunner's "
        "evaluation interval counts iterations"]
    epochs = dict(total_epochs=2, evaluation=dict(interval=100, by_epoch=False),
                  data=dict(val=dict(type="X")))
    assert config_notes(epochs) == []
    (hook,) = [h for h in build_hooks(epochs, schedule=None, runner_by_epoch=True, validate=True)
               if isinstance(h, EvalHook)]
    assert hook.by_epoch is False

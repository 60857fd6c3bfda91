"""The bad-input matrix: every kind of bad input a user can give, in one table.

Each case runs a command-line entry point in-process (``run_cli(main, argv)``: train.py, the
hostfile check, export, infer_recog, infer_det) on inputs it writes into ``tmp/in`` first, and
asserts what the README promises: exit code 2, exactly one line on stderr (``error: ...``)
naming the bad thing and what was expected, no traceback, and nothing written: train.py gets
``--work-dir tmp/wd``, which must not exist afterwards, the tools write under ``tmp/out``, which
must not exist either, and no other file appears anywhere under ``tmp`` (the current directory).

train.py runs with a no-op process group and a ``build_engine`` that fails the test: every
case must be refused before DeepSpeed is started (and so before the work dir is created).
"""
from __future__ import annotations

import importlib
import os
from collections import Counter
from pathlib import Path

import pytest

import bad_input_builders
from bad_input_builders import (
    CLIP, DBNET_ICDAR, GOOD_COCO, TOY, _write, cfg_file, ckpt_file, det_case, hostfile,
    lmdb_without_count, mc_case, opts, plain, recog_case, recog_cfg, tool_ckpt, train_flag)
from ocr_ds.errors import run_cli


# -- the matrix ------------------------------------------------------------------------------------
# (case id, category, entry point, argv builder, expected fragment of the one-line message)
CASES = [
    # CLI flags
    ("no-config", "flag", "train", plain(), "config: expected a config file"),
    ("missing-config", "flag", "train", plain("nope.py"), "nope.py"),
    ("unknown-flag", "flag", "train", plain(TOY, "--frobnicate"), "unrecognized arguments: --frobnicate"),
    ("gpus-and-gpu-ids", "flag", "train", plain(TOY, "--gpus", "2", "--gpu-ids", "0"), "not allowed with argument"),
    ("gpus-zero", "flag", "train", plain(TOY, "--gpus", "0"), "--gpus: expected a positive integer (got 0)"),
    ("gpus-not-int", "flag", "train", plain(TOY, "--gpus", "two"), "argument --gpus: invalid int value: 'two'"),
    ("gpu-ids-negative", "flag", "train", plain(TOY, "--gpu-ids", "-1"), "--gpu-ids: expected device ids >= 0"),
    ("seed-negative", "flag", "train", plain(TOY, "--seed", "-3"), "--seed: expected an integer in [0, 2**32) (got -3)"),
    ("gpu-id-negative", "flag", "train", plain(TOY, "--gpu-id", "-1"), "--gpu-id: expected a device id >= 0 (got -1)"),
    ("gpu-id-and-gpus", "flag", "train", plain(TOY, "--gpu-id", "1", "--gpus", "2"), "not allowed with argument"),
    ("options-and-cfg-options", "flag", "train", plain(TOY, "--options", "a=1", "--cfg-options", "b=2"),
     "--options: --options and --cfg-options cannot be both specified"),
    # --options (MMOCR's deprecated name) is --cfg-options: the value reaches the config check
    ("options-merged", "flag", "train", plain(TOY, "--options", "optimizer.lr=-0.1"),
     "optimizer.lr: torch.optim.SGD refuses it"),
    ("bad-launcher", "flag", "train", plain(TOY, "--launcher", "k8s"), "argument --launcher: invalid choice: 'k8s'"),
    ("missing-ds-config", "flag", "train", plain(TOY, "--deepspeed-config", "/nonexistent.json"), "--deepspeed-config: '/nonexistent.json' does not exist"),
    ("config-twice", "flag", "train", plain(TOY, "--config", CLIP), "config given twice"),
    ("config-syntax-error", "flag", "train", cfg_file("model = dict(type='ToyRegressor'\n"), "cfg.py"),
    # --cfg-options tokens
    ("option-no-equals", "cfg-options", "train", opts("optimizer.lr"), "expected key=value (got 'optimizer.lr')"),
    ("option-unbalanced", "cfg-options", "train", opts("data.x=[1,2"), "data.x: expected balanced brackets"),
    ("option-bad-index", "cfg-options", "train", opts("log_config.hooks.5.type=X"), "out of range"),
    ("option-empty-key", "cfg-options", "train", opts("=3"), "expected a non-empty key"),
    ("option-empty-part", "cfg-options", "train", opts("model..size=3"), "expected a dotted key"),
    ("option-code-not-run", "cfg-options", "train",
     opts("model.type=__import__('os').system('touch pwned')"), "model.type: unknown"),
    # config values
    ("unknown-optimizer", "config", "train", opts("optimizer.type=Sgdd"), "optimizer.type"),
    ("clip-norm-type", "config", "train", opts("optimizer_config.grad_clip.norm_type=1", config=CLIP),
     "optimizer_config.grad_clip.norm_type: DeepSpeed clips by L2 norm only (got 1)"),
    ("optimizer-hook-type", "config", "train", opts("optimizer_config.type=Nope"), "optimizer_config.type"),
    ("micro-batch-zero", "config", "train", opts("data.samples_per_gpu=0"), "samples_per_gpu"),
    ("fp16-on-cpu", "config", "train", opts("fp16.loss_scale=512."), "fp16=None bf16.enabled=True"),
    ("zero-stage-7", "config", "train", opts("deepspeed.zero_optimization.stage=7"), "zero_optimization.stage"),
    ("ds-scheduler", "config", "train", opts("deepspeed.scheduler.type=WarmupLR"), "scheduler"),
    ("unknown-policy", "config", "train", opts("lr_config.policy=Wobbly"), "lr_config.policy"),
    ("warmup-type", "config", "train", opts("lr_config.warmup=cos"), "lr_config.warmup: expected one of None, 'constant', 'linear', 'exp' (got 'cos')"),
    # momentum_config (mmcv's momentum hooks)
    ("momentum-unknown-policy", "config", "train", opts("momentum_config.policy=poly"),
     "momentum_config.policy: unknown 'poly'; expected one of: CosineAnnealing, LinearAnnealing, OneCycle, cyclic, step"),
    ("momentum-lr-argument", "config", "train", opts("momentum_config.policy=step", "momentum_config.step=2", "momentum_config.min_lr=0.5"),
     "momentum_config: unknown key(s) 'min_lr' for policy 'step'; expected keys: by_epoch, gamma, min_momentum, step, warmup, warmup_iters, warmup_ratio"),
    ("momentum-arg-type", "config", "train", opts("momentum_config.policy=CosineAnnealing", "momentum_config.min_momentum=low"),
     "momentum_config.min_momentum: expected a number (got 'low')"),
    ("momentum-onecycle-per-group", "config", "train", opts("momentum_config.policy=OneCycle", "momentum_config.max_momentum=[0.9,0.95]"),
     "momentum_config.max_momentum: expected a number (one max_momentum for all param groups"),
    ("momentum-by-epoch-iter-run", "config", "train",
     opts("runner.type=IterBasedRunner", "runner.max_iters=20", "total_epochs=None", "momentum_config.policy=step", "momentum_config.step=5"),
     "momentum_config.by_epoch: expected False for an iteration-based run (IterBasedRunner), where mmcv never updates a by_epoch momentum (got True, the default)"),
    ("momentum-no-momentum-optimizer", "config", "train",
     cfg_file(f"_base_ = [{TOY!r}]\noptimizer = dict(_delete_=True, type='Adadelta', lr=0.5)\n"
              "momentum_config = dict(policy='step', step=2)\n"),
     "momentum_config: optimizer 'Adadelta' has neither momentum nor betas for a momentum schedule to set"),
    # known once the data gives the epoch's length (train.py, before the work dir is made)
    ("momentum-adam-beta-one", "config", "train",
     cfg_file(f"_base_ = [{TOY!r}]\noptimizer = dict(_delete_=True, type='Adam', lr=0.01)\n"
              "momentum_config = dict(policy='step', step=2, warmup='linear', warmup_iters=5)\n"),
     "momentum_config: the schedule sets betas[0] of optimizer 'adam' to 1.0 at iteration 0"),
    ("cycles-over-iterations", "config", "train",  # 3 epochs of 12 iterations
     cfg_file(f"_base_ = [{TOY!r}]\nlr_config = dict(_delete_=True, policy='cyclic', by_epoch=False, cyclic_times=37)\n"),
     "lr_config.cyclic_times: expected at most max_iters (36) cycles (got 37)"),
    ("momentum-cycles-over-iterations", "config", "train",
     opts("momentum_config.policy=cyclic", "momentum_config.cyclic_times=37"),
     "momentum_config.cyclic_times: expected at most max_iters (36) cycles (got 37)"),
    ("epochs-zero", "config", "train", opts("total_epochs=0"), "total_epochs: expected a positive integer (got 0)"),
    ("runner-type", "config", "train", opts("runner.type=Looper", "runner.max_epochs=2"), "runner.type"),
    ("epochs-disagree", "config", "train", opts("runner.type=EpochBasedRunner", "runner.max_epochs=4"), "total_epochs"),
    ("unknown-model", "config", "train", opts("model.type=Transformer9000"), "model.type: unknown 'Transformer9000'"),
    ("custom-import-missing", "config", "train", opts("custom_imports.imports=[no_such_ocr_ext]"),
     "custom_imports.imports.0: cannot import 'no_such_ocr_ext' (ModuleNotFoundError"),
    ("custom-import-flag", "config", "train", opts("custom_imports.imports=[os]", "custom_imports.allow_failed_imports=1"),
     "custom_imports.allow_failed_imports: expected True or False (got 1)"),
    ("cudnn-benchmark", "config", "train", opts("cudnn_benchmark=yes"), "cudnn_benchmark: expected True or False (got 'yes')"),
    ("model-bad-arg", "config", "train", opts("model.hidden_size=3"), "model.hidden_size: not an argument of ToyRegressor"),
    ("unknown-dataset", "config", "train", opts("data.train.type=Imagenet"), "data.train.type: unknown 'Imagenet'"),
    ("loader-typo", "config", "train", opts("data.shufle=True"), "unknown loader setting"),
    ("workers-negative", "config", "train", opts("data.workers_per_gpu=-1"), "data.workers_per_gpu"),
    ("eval-interval", "config", "train", opts("evaluation.interval=0"), "evaluation.interval: expected a positive integer (got 0)"),
    ("eval-rule", "config", "train", opts("evaluation.rule=bigger"), "evaluation.rule"),
    ("ckpt-interval", "config", "train", opts("checkpoint_config.interval=x"), "checkpoint_config.interval"),
    ("log-interval", "config", "train", opts("log_config.interval=0"), "log_config.interval"),
    ("unknown-logger", "config", "train", opts("log_config.hooks.0.type=MlflowLoggerHook"), "log_config.hooks.0.type: unknown 'MlflowLoggerHook'"),
    ("wandb-logger-arg", "config", "train", opts("log_config.hooks.0.type=WandbLoggerHook", "log_config.hooks.0.init_kwargs=ocr"),
     "log_config.hooks.0.init_kwargs: expected a dict or None (got 'ocr')"),
    ("custom-hook", "config", "train", opts("custom_hooks=[dict]"), "custom_hooks.0"),
    ("port", "config", "train", opts("dist_params.port=70000"), "dist_params.port: expected a TCP port 1-65535 (got 70000)"),
    ("no-full-batch", "config", "train", opts("data.train.num_samples=3", "data.train_dataloader.drop_last=True"), "data.train: 3 samples give no full batch of 4"),
    # workflow (mmcv's runners): a list of (mode, count) phases, one 'train', at most one 'val'
    ("workflow-not-list", "config", "train", opts("workflow=train"),
     "workflow: expected a non-empty list of (mode, count) pairs, e.g. [('train', 1)] or [('train', 1), ('val', 1)] (got 'train')"),
    ("workflow-not-pair", "config", "train", opts("workflow=[(train,1,2)]"),
     "workflow.0: expected a (mode, count) pair such as ('val', 1) (got ('train', 1, 2))"),
    ("workflow-mode", "config", "train", opts("workflow=[(train,1),(test,1)]"),
     "workflow.1.0: expected 'train' or 'val' (got 'test')"),
    ("workflow-count", "config", "train", opts("workflow=[(train,1),(val,0)]"),
     "workflow.1.1: expected a positive integer (epochs; iterations with an IterBasedRunner) (got 0)"),
    ("workflow-no-train", "config", "train", opts("workflow=[(val,1)]"),
     "workflow: expected a ('train', N) phase (got [('val', 1)]); without one the run never ends"),
    ("workflow-train-twice", "config", "train", opts("workflow=[(train,1),(val,1),(train,1)]"),
     "workflow: expected one ('train', N) phase and at most one ('val', M) phase"),
    ("workflow-val-no-data", "config", "train", opts("workflow=[(train,1),(val,1)]", "data.val=None"),
     "data.val: expected a dataset dict for the workflow's 'val' phase, which computes the losses on it (got nothing)"),
    ("workflow-val-no-full-batch", "config", "train",
     opts("workflow=[(train,1),(val,1)]", "data.val.num_samples=3", "data.train_dataloader.drop_last=True"),
     "data.val: 3 samples give no full batch of 4 per rank at world size 1 (the workflow's 'val' phase takes the training loader's settings)"),
    # annotation files
    ("ann-missing", "annotation", "train", recog_case(None), "ann_file: file not found"),
    ("ann-empty", "annotation", "train", recog_case(""), "ann.txt: no annotations"),
    ("ann-txt-malformed", "annotation", "train", recog_case("a.png\n", skip_invalid="False"),
     "ann.txt:1: malformed annotation (1 field(s), need index 1)"),
    ("ann-txt-all-malformed", "annotation", "train", recog_case("a.png\nb.png\n"),
     "ann.txt: none of its 2 samples is usable (e.g. "),
    ("ann-jsonl-malformed", "annotation", "train",
     recog_case('{"filename": "a.png", "text": "hi"\n', parser="LineJsonParser", skip_invalid="False"),
     "ann.txt:1: malformed annotation (not JSON"),
    ("ann-jsonl-missing-key", "annotation", "train",
     recog_case('{"filename": "a.png"}\n', parser="LineJsonParser", skip_invalid="False"),
     "missing key(s) ['text']"),
    ("coco-not-json", "annotation", "train", det_case("{'images': []"), "coco.json: not valid JSON"),
    ("coco-no-images", "annotation", "train", det_case({"annotations": []}), "expected a COCO dict with an 'images' list"),
    ("coco-image-keys", "annotation", "train", det_case({"images": [{"id": 1, "name": "a.png"}]}),
     "coco.json: images[0]: expected a dict with id, file_name (missing file_name)"),
    ("coco-ann-keys", "annotation", "train",
     det_case({**GOOD_COCO, "annotations": [{"id": 1, "image_id": 1, "segmentation": []}]}),
     "coco.json: annotations[0]: expected a dict with image_id, bbox (missing bbox)"),
    ("coco-bad-bbox", "annotation", "train",
     det_case({**GOOD_COCO, "annotations": [{"id": 1, "image_id": 1, "bbox": [1, 2]}]}),
     "annotations[0].bbox: expected [x, y, w, h] numbers"),
    ("lmdb-no-num-samples", "annotation", "train", lmdb_without_count, "no 'num-samples' key"),
    # images
    ("img-prefix-missing", "image", "train", recog_case("a.png hello\n", prefix="nowhere"),
     "data.train: img_prefix"),
    ("all-images-missing", "image", "train", recog_case("x.png hello\ny.png world\n"),
     "none of its 2 samples is usable (e.g. "),
    ("all-images-undecodable", "image", "train",
     lambda d: (_write(d / "imgs" / "x.png", b"not a png"), recog_case("x.png hello\n", images=False)(d))[1],
     "x.png: undecodable image"),
    ("det-img-prefix-missing", "image", "train", det_case(GOOD_COCO, prefix="nowhere"), "img_prefix"),
    ("det-all-images-missing", "image", "train",
     det_case({**GOOD_COCO, "images": [{"id": 1, "file_name": "gone.png", "width": 64, "height": 64}]}),
     "coco.json: no usable training sample among 1 images (e.g. "),
    # hostfiles (python -m ocr_ds.engine.hostfile, run by launch/ds_train.sh)
    ("hostfile-missing", "hostfile", "hostfile", hostfile(None), "hosts': no such file; expected '<host> slots=<N>'"),
    ("hostfile-bad-line", "hostfile", "hostfile", hostfile("worker-1 slots=2\nworker-2 gpus=2\n"), "hosts:2: bad line 'worker-2 gpus=2'"),
    ("hostfile-slots-word", "hostfile", "hostfile", hostfile("worker-1 slots=eight\n"), "hosts:1: bad line"),
    ("hostfile-slots-zero", "hostfile", "hostfile", hostfile("worker-1 slots=0\n"), "worker-1 slots=0; expected a positive number of slots"),
    ("hostfile-duplicate", "hostfile", "hostfile", hostfile("a slots=1\n# c\na slots=2\n"), "hosts:3: host 'a' again (first on line 1)"),
    ("hostfile-empty", "hostfile", "hostfile", hostfile("# nothing\n\n"), "no host in it"),
    # checkpoint paths
    ("load-from-missing", "checkpoint", "train", plain(TOY, "--load-from", "/nonexistent.pth"), "--load-from: '/nonexistent.pth' does not exist"),
    ("resume-from-missing", "checkpoint", "train", plain(TOY, "--resume-from", "/nonexistent"), "--resume-from: '/nonexistent' does not exist"),
    ("load-from-truncated", "checkpoint", "train", train_flag("--load-from", ckpt_file("truncated")),
     "ckpt.pth: cannot be read as a PyTorch checkpoint, expected a file written by torch.save"),
    ("load-from-foreign", "checkpoint", "train", train_flag("--load-from", ckpt_file("foreign")),
     "ckpt.pth: refusing to unpickle a checkpoint that is not weights-only"),
    ("load-from-not-a-checkpoint-dir", "checkpoint", "train", train_flag("--load-from", ckpt_file("not-a-dir")),
     "dir: not a checkpoint directory (expected model.pth"),
    ("load-from-latest-missing", "checkpoint", "train", train_flag("--load-from", ckpt_file("latest-missing")),
     "latest: names checkpoint 'epoch_9', which does not exist"),
    ("resume-from-not-a-checkpoint-dir", "checkpoint", "train", train_flag("--resume-from", ckpt_file("not-a-dir")),
     "dir' is not a complete checkpoint (no ocr_ds_meta.json)"),
    ("resume-from-latest-missing", "checkpoint", "train", train_flag("--resume-from", ckpt_file("latest-missing")),
     "latest names 'epoch_9', which is not a complete checkpoint"),
    ("export-foreign", "checkpoint", "export", tool_ckpt(ckpt_file("foreign"), "{d}/../out/x.pth"),
     "pass --allow-unsafe-pickle to load it anyway, only for files you trust"),
    ("export-garbage", "checkpoint", "export", tool_ckpt(ckpt_file("garbage"), "{d}/../out/x.pth"),
     "ckpt.pth: not a PyTorch checkpoint (it is text)"),
    ("infer-recog-foreign", "checkpoint", "infer_recog", tool_ckpt(ckpt_file("foreign"), "{d}/a.png"),
     "refusing to unpickle"),
    ("infer-det-truncated", "checkpoint", "infer_det",
     tool_ckpt(ckpt_file("truncated"), "{d}/a.png", "--out-dir", "{d}/../out"), "cannot be read as a PyTorch checkpoint"),
    ("pretrained-backbone-foreign", "checkpoint", "train",
     lambda d: [DBNET_ICDAR, "--cfg-options",
                f"model.backbone.init_cfg.checkpoint={ckpt_file('foreign')(d)}"],
     "refusing to unpickle a checkpoint that is not weights-only (it holds Python objects "
     "besides tensors, which could run code); save its state_dict again with torch.save"),
    # mc-config files
    ("mc-missing", "mc-config", "train", mc_case(None), "--mc-config: "),
    ("mc-no-key", "mc-config", "train", mc_case("servers = ['x']\n", recog_cfg), "expected a key mc_file_client_args=dict(backend=...)"),
    ("mc-not-dict", "mc-config", "train", mc_case("mc_file_client_args = 'memcached'\n", recog_cfg),
     "mc_file_client_args: expected a dict like dict(backend=..., ...) (got 'memcached')"),
    ("mc-unknown-backend", "mc-config", "train", mc_case("mc_file_client_args = dict(backend='ceph')\n", recog_cfg),
     "mc_file_client_args.backend: unknown 'ceph'; expected one of:"),
    ("mc-syntax-error", "mc-config", "train", mc_case("mc_file_client_args = dict(backend=\n", recog_cfg), "mc.py"),
    ("mc-no-pipeline", "mc-config", "train", mc_case("mc_file_client_args = dict(backend='disk')\n"),
     "data.train dataset 0 has no pipeline to inject into"),
    ("mc-servers-not-list", "mc-config", "train",
     mc_case("mc_file_client_args = dict(backend='memcached', servers='127.0.0.1:11211')\n", recog_cfg),
     "mc_file_client_args.servers: expected a list of 'host:port' strings (got '127.0.0.1:11211')"),
    ("mc-unknown-key", "mc-config", "train",
     mc_case("mc_file_client_args = dict(backend='memcached', servers=['a:1'], ttl=5)\n", recog_cfg),
     "mc_file_client_args: unknown key 'ttl' for backend 'memcached'"),
]


# the cases of issue 13 (test.py, config checks, encodings, checkpoints, every tool's flags)
from more_bad_inputs import more_cases  # noqa: E402

CASES += more_cases(bad_input_builders)
# every tool's own arguments
from tool_bad_inputs import tool_cases  # noqa: E402

CASES += tool_cases(bad_input_builders)


def _data_commands() -> list[str]:
    """Every command of ocr_ds/tools/data (MMOCR's tools/data: converters), as
    ``data.<kind>.<name>``; each needs a row (test_matrix_covers_every_tool)."""
    import ocr_ds.tools.data

    top = os.path.dirname(ocr_ds.tools.data.__file__)
    return sorted(f"data.{os.path.basename(d)}.{name[:-3]}" for d, _, names in os.walk(top)
                  for name in names if name.endswith(".py") and not name.startswith("_"))


ENTRIES = {"train": "ocr_ds.train", "test": "ocr_ds.test", "hostfile": "ocr_ds.engine.hostfile",
           **{tool: f"ocr_ds.tools.{tool}" for tool in (
               "export", "infer_recog", "infer_det", "eval_results", "lr_curve", "to_lmdb",
               "gen_recog_data", "gen_det_data", "icdar_to_coco", "build_dict", "analyze_logs",
               "print_config", "publish_model", "benchmark_processing", "ocr", "ner_demo",
               "deployment.pytorch2onnx", "deployment.deploy_test", "deployment.onnx2tensorrt",
               "deployment.mmocr2torchserve", "deployment.test_torchserve",
               *_data_commands())}}


def _entry(name: str):
    return importlib.import_module(ENTRIES[name]).main


def _snapshot(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("case,category,entry,build,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input(case, category, entry, build, message, tmp_path, capfd, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT", "DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    from ocr_ds.engine import builder, spawn

    def no_engine(*a, **k):
        raise AssertionError("bad input reached deepspeed.initialize")

    def no_ranks(*a, **k):
        raise AssertionError("bad input reached the start of the ranks (--gpus N)")

    monkeypatch.setattr(builder, "init_distributed", lambda *a, **k: None)
    monkeypatch.setattr(builder, "build_engine", no_engine)
    monkeypatch.setattr(spawn, "spawn_local_ranks", no_ranks)
    inputs = tmp_path / "in"
    inputs.mkdir()
    argv = build(inputs)
    work_dir = tmp_path / "wd"
    if entry == "train" and "--work-dir" not in argv:
        argv = argv + ["--work-dir", str(work_dir)]
    before = _snapshot(tmp_path)
    capfd.readouterr()
    with pytest.raises(SystemExit) as exc:
        run_cli(lambda: _entry(entry)(argv))
    assert exc.value.code == 2
    # capfd: what C libraries write to fd 2 (an OpenCV warning) counts as a line too
    err = capfd.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    assert err.startswith("error: "), err
    assert message in err, err
    assert not work_dir.exists() and not (tmp_path / "out").exists()
    assert _snapshot(tmp_path) == before, sorted(_snapshot(tmp_path) - before)


def test_matrix_covers_every_category():
    counts = Counter(c[1] for c in CASES)
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)
    for category, least in {"flag": 8, "cfg-options": 4, "config": 15, "annotation": 8,
                            "image": 3, "hostfile": 5, "checkpoint": 9, "mc-config": 7,
                            "test": 15, "output": 5, "tool": 10}.items():
        assert counts[category] >= least, (category, counts)


def test_matrix_covers_every_tool():
    """Each command-line tool under ocr_ds/tools has a row (a new tool gets one too)."""
    import ocr_ds.tools

    top = os.path.dirname(ocr_ds.tools.__file__)
    tools = {os.path.relpath(os.path.join(d, name[:-3]), top).replace(os.sep, ".")
             for d, _, names in os.walk(top)
             for name in names if name.endswith(".py") and not name.startswith("_")}
    assert tools <= set(ENTRIES), sorted(tools - set(ENTRIES))
    assert set(ENTRIES) <= {c[2] for c in CASES}, sorted(set(ENTRIES) - {c[2] for c in CASES})

"""More rows of the bad-input matrix (tests/cli/test_bad_input_matrix.py), by kind: test.py's
flags and outputs, values only torch or DeepSpeed used to refuse (optimizer values, model
argument types), evaluation metrics and ``save_best``, output paths that cannot be made,
relative key paths made full, annotation encodings, impossible lmdb counts, files that are not
checkpoints, ``--load-from``/``--resume-from`` checkpoints of another model or layout, and a
config checked before ``--gpus N`` starts ranks (every tool's own argument errors:
tool_bad_inputs.py).

:func:`more_cases` takes the input builders' module (bad_input_builders.py) and returns the rows.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

import torch

TOY_MODEL = dict(in_channels=1, size=8, hidden=32, out_features=4)


def _toy_ckpt(d: Path, hidden: int = 32) -> str:
    from ocr_ds.models.toy import ToyRegressor

    d.mkdir(parents=True, exist_ok=True)
    path = d / "toy.pth"
    torch.save({"state_dict": ToyRegressor(**dict(TOY_MODEL, hidden=hidden)).state_dict(),
                "meta": {}}, path)
    return str(path)


def _fake_run(d: Path, *, stage: int, world: int, hidden: int = 32,
              drop: str | None = None) -> str:
    """A checkpoint dir as our runs write it (metadata, DeepSpeed's files), of a toy model with
    ``hidden`` units saved at ZeRO ``stage`` by ``world`` ranks; ``drop`` leaves one file out."""
    from ocr_ds.models.toy import ToyRegressor

    ckpt = d / "run" / "epoch_1"
    ckpt.mkdir(parents=True)
    module = ToyRegressor(**dict(TOY_MODEL, hidden=hidden)).state_dict()
    states = {"module": module, "ds_config": {"zero_optimization": {"stage": stage}},
              "param_shapes": None}
    torch.save(states, ckpt / "mp_rank_00_model_states.pt")
    for r in range(world if stage else 0):
        torch.save({"optimizer_state_dict": {}}, ckpt / f"zero_pp_rank_{r}_mp_rank_00_optim_states.pt")
    if drop:
        os.remove(ckpt / drop)
    (ckpt / "ocr_ds_meta.json").write_text(json.dumps(
        {"epoch": 1, "iter": 12, "world_size": world, "save_optimizer": True}))
    (d / "run" / "latest").write_text("epoch_1")
    return str(d / "run")


def toy_recog_with_val(m: ModuleType, d: Path, **extra: str) -> str:
    """The toy config training and validating an OCRDataset (so metrics can be checked)."""
    d.mkdir(parents=True, exist_ok=True)
    m._png(d / "imgs" / "a.png")
    ann = m._write(d / "ann.txt", "a.png hello\n")
    ds = m.recog(ann, str(d / "imgs"))
    with open(m.TOY) as f:
        text = f.read()
    lines = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return m._write(d / "cfg.py", text + f"\ndata = dict(samples_per_gpu=1, workers_per_gpu=0,"
                                         f" train={ds}, val={ds}, test={ds})\n{lines}")


def more_cases(m: ModuleType) -> list[tuple]:
    """The rows (case id, category, entry point, argv builder, expected message fragment)."""
    TOY, plain, opts, cfg_file, _write, _png = m.TOY, m.plain, m.opts, m.cfg_file, m._write, m._png

    def recog_with_val(d: Path, **extra: str) -> str:
        return toy_recog_with_val(m, d, **extra)

    def val_opts(*tokens: str):
        return lambda d: [recog_with_val(d), "--cfg-options", *tokens]

    def recog_ann(content: bytes):
        def build(d: Path) -> list[str]:
            _png(d / "imgs" / "a.png")
            ann = _write(d / "ann.txt", content)
            return [m._config(d, m.recog(ann, str(d / "imgs")))]
        return build

    def coco_bytes(content: bytes):
        def build(d: Path) -> list[str]:
            _png(d / "imgs" / "a.png")
            ann = _write(d / "coco.json", content)
            train = (f"dict(type='IcdarDataset', ann_file={ann!r}, img_prefix={str(d / 'imgs')!r},"
                     " pipeline=[dict(type='LoadImageFromFile')])")
            return [m._config(d, train)]
        return build

    def lmdb_count(count: bytes, labels: int = 1):
        def build(d: Path) -> list[str]:
            import lmdb

            env = lmdb.open(str(d / "lmdb"), map_size=1 << 20)
            with env.begin(write=True) as txn:
                txn.put(b"num-samples", count)
                for i in range(1, labels + 1):
                    txn.put(f"label-{i:09d}".encode(), b"a.png hello")
            env.close()
            train = (f"dict(type='OCRDataset', ann_file={str(d / 'lmdb')!r}, img_prefix='', "
                     f"loader=dict(type='AnnFileLoader', file_format='lmdb', "
                     f"parser=dict(type='LineJsonParser', keys=['filename', 'text'])), "
                     f"pipeline={m.RECOG_PIPELINE})")
            return [m._config(d, train)]
        return build

    def a_file(name: str, content: bytes):
        return lambda d: _write(d / name, content)

    def png_file(d: Path) -> str:
        import cv2
        import numpy as np

        return _write(d / "weights.pth", cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes())

    def toy_with_test(d: Path) -> str:
        return _write(d / "toy_test.py", f"_base_ = [{TOY!r}]\n"
                      "data = dict(test=dict(type='ToyDataset', num_samples=5, seed=2))\n")

    def test_py(*flags: str, config=None, ckpt=None):
        """test.py CONFIG CHECKPOINT flags; outputs under tmp/out (which must not appear)."""
        def build(d: Path) -> list[str]:
            cfg = config(d) if callable(config) else (config or toy_with_test(d))
            ck = ckpt(d) if callable(ckpt) else (ckpt or _toy_ckpt(d))
            return [cfg, ck, *(f.format(d=d, out=d.parent / "out") for f in flags)]
        return build

    def at_end(make, *flags: str):
        return lambda d: [*make(d), *flags]

    def resume(**kw):
        return lambda d: [TOY, "--resume-from", _fake_run(d, **{k: v for k, v in kw.items()
                                                                if k != "opts"}),
                          "--cfg-options", *kw.get("opts", ("total_epochs=3",))]

    return [
        # test.py: its flags, outputs and checkpoint
        ("test-no-action", "test", "test", test_py(), "expected at least one of --out, --eval"),
        ("test-eval-and-format-only", "test", "test", test_py("--eval", "acc", "--format-only"),
         "--eval and --format-only: expected one of them"),
        ("test-format-only-no-out", "test", "test", test_py("--format-only"),
         "--format-only: expected --out FILE.json"),
        ("test-out-pickle", "test", "test", test_py("--out", "{out}/r.pkl"),
         "--out: expected a .json file (ocr_ds writes predictions as JSON, never as a pickle)"),
        ("test-missing-checkpoint", "test", "test", test_py("--eval", "acc", ckpt="/nonexistent.pth"),
         "checkpoint: '/nonexistent.pth' does not exist"),
        ("test-unknown-metric", "test", "test", test_py("--eval", "bleu", config=recog_with_val),
         "--eval: expected 'acc' or some of word_acc"),
        ("test-det-metric-on-recog", "test", "test",
         test_py("--eval", "hmean-iou", config=recog_with_val), "--eval: expected 'acc'"),
        ("test-show-without-display", "test", "test", test_py("--show"), "--show: no display"),
        ("test-show-score-thr", "test", "test", test_py("--show-dir", "{out}", "--show-score-thr", "2"),
         "--show-score-thr: expected a number in [0, 1] (got 2.0)"),
        ("test-out-uncreatable", "test", "test", test_py("--out", "/proc/nope/r.json"),
         "--out: cannot create '/proc/nope'"),
        ("test-show-dir-under-a-file", "test", "test",
         lambda d: test_py("--show-dir", f"{a_file('a_file', 'x')(d)}/pictures")(d),
         "--show-dir: cannot create"),
        ("test-eval-options-token", "test", "test", test_py("--eval", "acc", "--eval-options", "thr"),
         "--eval-options: expected key=value (got 'thr')"),
        ("test-options-twice", "test", "test",
         test_py("--out", "{out}/r.json", "--options", "a=1", "--eval-options", "b=2"),
         "--options and --eval-options: expected one of them"),
        ("test-gpu-id", "test", "test", test_py("--out", "{out}/r.json", "--gpu-id", "-1"),
         "--gpu-id: expected a device id >= 0 (got -1)"),
        ("test-bad-launcher", "test", "test", test_py("--out", "{out}/r.json", "--launcher", "k8s"),
         "argument --launcher: invalid choice: 'k8s'"),
        ("test-checkpoint-of-another-model", "test", "test",
         test_py("--out", "{out}/r.json", ckpt=lambda d: _toy_ckpt(d, hidden=16)),
         "model tensors missing or of another shape, e.g. "),
        ("test-config-problems", "test", "test",
         test_py("--out", "{out}/r.json", "--cfg-options", "model.type=Nope"),
         "model.type: unknown 'Nope'"),
        ("test-checkpoint-not-torch", "test", "test",
         test_py("--out", "{out}/r.json", ckpt=a_file("w.pth", b'{"a": 1}')),
         "w.pth: not a PyTorch checkpoint (it is JSON text)"),
        # values torch or DeepSpeed used to refuse with a traceback after the work dir existed
        ("optimizer-negative-lr", "config", "train", opts("optimizer.lr=-0.1"),
         "optimizer.lr: torch.optim.SGD refuses it: Invalid learning rate: -0.1 (got -0.1)"),
        ("optimizer-value-type", "config", "train", opts("optimizer.momentum=fast"),
         "optimizer.momentum: expected a number (got 'fast')"),
        ("optimizer-unknown-arg", "config", "train", opts("optimizer.betas=[0.9,0.99]"),
         "optimizer.betas: not an argument of SGD"),
        ("optimizer-arg-of-another-type", "config", "train", opts("optimizer.type=Adam"),
         "optimizer.momentum: not an argument of Adam"),
        ("model-arg-type", "config", "train", opts("model.hidden=big"),
         "model.hidden: expected an integer (got 'big')"),
        ("model-arg-float-for-int", "config", "train", opts("model.size=8.5"),
         "model.size: expected an integer (got 8.5)"),
        ("model-nested-arg-type", "config", "train",
         opts("model.backbone.init_cfg=None", "model.backbone.depth=deep", config=m.DBNET_ICDAR),
         "model.backbone.depth: expected an integer (got 'deep')"),
        ("model-nested-unknown-arg", "config", "train",
         opts("model.backbone.init_cfg=None", "model.neck.lateral=3", config=m.DBNET_ICDAR),
         "model.neck.lateral: not an argument of FPNC"),
        ("model-full-key-path", "config", "train",
         opts("model.backbone.init_cfg.checkpoint=/nonexistent.pth", config=m.DBNET_ICDAR),
         "model.backbone.init_cfg.checkpoint: file not found"),
        ("pipeline-step-arg", "config", "train", val_opts("data.train.pipeline.1.heigth=8"),
         "data.train.pipeline.1.heigth: not an argument of ResizeOCR"),
        ("dataset-arg", "config", "train", at_end(m.det_case(m.GOOD_COCO), "--cfg-options",
                                                  "data.train.ann=x"),
         "data.train.ann: not an argument of IcdarDataset"),
        ("concat-member-key-path", "config", "train",
         opts("data.train.type=ConcatDataset", "data.train.datasets=[None]"),
         "data.train.datasets.0: expected a dict with a 'type' key"),
        ("dataset-list-key-path", "config", "train",
         cfg_file(f"_base_ = [{TOY!r}]\ndata = dict(train=[dict(type='ToyDataset'), "
                  "dict(type='Nope')])\n"), "data.train.1.type: unknown 'Nope'"),
        ("custom-hook-arg", "config", "train",
         cfg_file(f"_base_ = [{TOY!r}]\ncustom_hooks = [dict(type='EmptyCacheHook', "
                  "after_epoc=True)]\n"), "custom_hooks.0.after_epoc: not an argument of EmptyCacheHook"),
        ("dist-params-not-dict", "config", "train", opts("dist_params=3"),
         "dist_params: expected a dict (got 3)"),
        # evaluation metrics and save_best, before training starts
        ("eval-metric-unknown", "config", "train", val_opts("evaluation.metric=hmean-iou"),
         "evaluation.metric: expected 'acc' or some of"),
        ("save-best-unknown", "config", "train", val_opts("evaluation.save_best=accuracy"),
         "evaluation.save_best: expected 'auto' or one of the metrics char_recall"),
        ("save-best-not-in-metric", "config", "train",
         val_opts("evaluation.metric=word_acc", "evaluation.save_best=char_recall"),
         "evaluation.save_best: expected 'auto' or one of the metrics word_acc (got 'char_recall')"),
        # output paths that cannot be made
        ("out-dir-uncreatable", "output", "train", opts("checkpoint_config.out_dir=/proc/nope"),
         "checkpoint_config.out_dir: cannot create '/proc/nope'"),
        ("out-dir-is-a-file", "output", "train",
         lambda d: opts(f"checkpoint_config.out_dir={a_file('f', 'x')(d)}")(d),
         "checkpoint_config.out_dir: cannot create"),
        ("work-dir-uncreatable", "output", "train", plain(TOY, "--work-dir", "/proc/wd"),
         "work_dir: cannot create '/proc/wd'"),
        ("work-dir-under-a-file", "output", "train",
         lambda d: [TOY, "--work-dir", f"{a_file('f', 'x')(d)}/wd"], "work_dir: cannot create"),
        ("infer-det-out-dir-uncreatable", "output", "infer_det",
         lambda d: [_toy_ckpt(d), _png(d / "a.png"), "--out-dir", "/proc/nope", "--config", TOY],
         "--out-dir: cannot create '/proc/nope'"),
        # encodings and lmdb counts
        ("ann-utf16", "annotation", "train", recog_ann("a.png hello\n".encode("utf-16")),
         "ann.txt: not UTF-8 (byte 0xff at line 1; it starts with a UTF-16 byte-order mark)"),
        ("ann-latin1", "annotation", "train", recog_ann("a.png caf\xe9\n".encode("latin-1")),
         "ann.txt: not UTF-8 (byte 0xe9 at line 1); expected a UTF-8 annotation file"),
        ("coco-latin1", "annotation", "train",
         coco_bytes(json.dumps(m.GOOD_COCO).replace("text", "t\xe9xt").encode("latin-1")),
         "coco.json: not UTF-8"),
        ("config-latin1", "config", "train", cfg_file("# caf\xe9\n".encode("latin-1") + b"x = 1\n"),
         "cfg.py: not UTF-8 (byte 0xe9 at line 1); expected a UTF-8 config file"),
        ("lmdb-count-negative", "annotation", "train", lmdb_count(b"-1"),
         "num-samples: expected a positive count of labels (got -1)"),
        ("lmdb-count-zero", "annotation", "train", lmdb_count(b"0"),
         "num-samples: expected a positive count of labels (got 0)"),
        ("lmdb-count-too-large", "annotation", "train", lmdb_count(b"5", labels=2),
         "num-samples is 5, but there is no label-000000005"),
        # files that are not checkpoints, and checkpoints of another model or layout
        ("load-from-text", "checkpoint", "train", m.train_flag("--load-from", a_file("w.pth", "weights")),
         "w.pth: not a PyTorch checkpoint (it is text)"),
        ("load-from-png", "checkpoint", "train", m.train_flag("--load-from", png_file),
         "weights.pth: not a PyTorch checkpoint (it is a PNG image)"),
        ("load-from-empty", "checkpoint", "train", m.train_flag("--load-from", a_file("w.pth", b"")),
         "w.pth: not a PyTorch checkpoint (it is empty)"),
        ("export-npy", "checkpoint", "export",
         lambda d: [a_file("w.npy", b"\x93NUMPY\x01\x00")(d), f"{d}/../out/x.pth"],
         "w.npy: not a PyTorch checkpoint (it is a numpy .npy array)"),
        ("load-from-another-model", "checkpoint", "train",
         m.train_flag("--load-from", lambda d: _write_state(d, {"decoder.fc.weight": torch.ones(3, 3)})),
         "expected a checkpoint of this ToyRegressor (got "),
        ("load-from-other-shapes", "checkpoint", "train",
         m.train_flag("--load-from", lambda d: _write_state(d, {"net.4.weight": torch.ones(3, 3)})),
         "which has 0 of its 9 tensors by name and shape; e.g. net.1.weight missing; "
         "net.1.bias missing; net.4.weight [3, 3] in the file, [4, 32] here)"),
        ("resume-other-shapes", "checkpoint", "train", resume(stage=0, world=1, hidden=16),
         "model tensors do not fit, e.g. "),
        ("resume-missing-rank-file", "checkpoint", "train",
         resume(stage=2, world=2, drop="zero_pp_rank_1_mp_rank_00_optim_states.pt",
                opts=("deepspeed.zero_optimization.stage=2",)),
         "1 of the files its 2 ranks wrote are missing, e.g. zero_pp_rank_1_mp_rank_00_optim_states.pt"),
        ("resume-zero-layout", "checkpoint", "train", resume(stage=2, world=1),
         "was saved ZeRO-1/2 (stage 2), this run trains without ZeRO (stage 0)"),
        ("cfg-options-dict-call", "cfg-options", "train",
         opts("model.init_cfg=[dict(type='Kaiming',layer='Linear'),dict(type='Constant')]"),
         "--cfg-options model.init_cfg: expected a value or a list/tuple of values (got "),
        # --gpus N: the config is checked before any rank starts (one line, not N)
        ("gpus-config-checked-first", "flag", "train",
         plain(TOY, "--gpus", "2", "--cfg-options", "model.type=Nope"), "model.type: unknown 'Nope'"),
    ]


def _write_state(d: Path, state: dict) -> str:
    d.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state}, d / "other.pth")
    return str(d / "other.pth")

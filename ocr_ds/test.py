"""Evaluate a checkpoint on a config's test set (the interface of MMOCR 0.x's ``tools/test.py``).

Examples::

    # metrics of one checkpoint (hmean-iou for detection, acc for recognition)
    python ocr_ds/test.py CONFIG work_dirs/dbnet/epoch_6 --eval hmean-iou
    # predictions as JSON, and one picture per test image
    python ocr_ds/test.py CONFIG model.pth --out preds.json --show-dir pictures/
    # several ranks: same metrics and predictions as one process
    launch/dist_test.sh CONFIG CHECKPOINT 8 --eval acc
    deepspeed --num_gpus 2 ocr_ds/test.py CONFIG CHECKPOINT --eval acc
    # check the config and the checkpoint, run nothing
    python ocr_ds/test.py CONFIG CHECKPOINT --eval acc --dry-run

CHECKPOINT: a checkpoint directory of ours (any ZeRO stage; ZeRO-3 partitions are merged), a
work dir (the checkpoint its ``latest`` names), an exported ``.pth`` or an MMOCR model-zoo
``.pth`` (``{'meta', 'state_dict'}``). Bad input is one line on stderr, exit 2, nothing written.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Mapping, Sequence

if __package__ in (None, ""):  # run as a script: import the package, not this file's folder
    _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.path.insert(0, _root)

from ocr_ds.errors import (CliParser, UserError, add_unsafe_pickle_flag,  # noqa: E402
                            check_only, run_cli)


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="ocr_ds/test.py", description="Test (and evaluate) a model: MMOCR "
                  "0.x's tools/test.py on ocr_ds checkpoints.")
    p.add_argument("config", help="test config file path")
    p.add_argument("checkpoint", help="checkpoint dir, work dir, exported or MMOCR .pth")
    p.add_argument("--out", help="write the predictions here, as JSON (.json; not a pickle)")
    p.add_argument("--fuse-conv-bn", action="store_true",
                   help="fold BatchNorm into the convolution before it (faster inference)")
    p.add_argument("--gpu-id", type=int, default=0,
                   help="GPU to use without a launcher (default 0; ignored on the CPU)")
    p.add_argument("--format-only", action="store_true",
                   help="predict and write --out, no evaluation")
    p.add_argument("--eval", nargs="+", metavar="METRIC",
                   help="metrics: hmean-iou (detection), acc (recognition) or recognition "
                   "metric names")
    p.add_argument("--show", action="store_true", help="show each picture in a window")
    p.add_argument("--show-dir", help="write one picture per test image into this directory")
    p.add_argument("--show-score-thr", type=float, default=0.3,
                   help="draw boundaries scoring at least this (default 0.3)")
    p.add_argument("--gpu-collect", action="store_true",
                   help="collect the ranks' predictions through the process group, not files")
    p.add_argument("--tmpdir", help="directory (seen by every rank) for collecting predictions "
                   "through files (default: a new one under ./.dist_test)")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config settings (mmcv's grammar)")
    p.add_argument("--eval-options", nargs="+", default=None, metavar="KEY=VALUE",
                   help="keyword arguments for the dataset's evaluate()")
    p.add_argument("--options", nargs="+", default=None, metavar="KEY=VALUE",
                   help="deprecated spelling of --eval-options")
    p.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                   help="job launcher (none also covers the deepspeed launcher)")
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, dest="local_rank")
    add_unsafe_pickle_flag(p)
    p.add_argument("--dry-run", action="store_true",
                   help="check the config (every problem, one line each) and the checkpoint, "
                   "then exit without predicting")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The flags, with every rule between them checked (MMOCR asserts some of them)."""
    from ocr_ds.config import parse_cfg_options

    args = build_parser().parse_args(argv)
    if not (args.out or args.eval or args.format_only or args.show or args.show_dir
            or args.dry_run):
        raise UserError("expected at least one of --out, --eval, --format-only, --show, "
                        "--show-dir: what to do with the predictions")
    if args.eval and args.format_only:
        raise UserError("--eval and --format-only: expected one of them (--format-only "
                        "predicts without evaluating)")
    if args.format_only and not args.out:
        raise UserError("--format-only: expected --out FILE.json to write the predictions to")
    if args.out is not None and not args.out.endswith(".json"):
        raise UserError(f"--out: expected a .json file (ocr_ds writes predictions as JSON, "
                        f"never as a pickle) (got {args.out!r})")
    if args.options is not None and args.eval_options is not None:
        raise UserError("--options and --eval-options: expected one of them (--options is the "
                        "deprecated spelling)")
    tokens = args.eval_options if args.eval_options is not None else args.options or []
    try:
        args.eval_kwargs = parse_cfg_options(tokens)
    except UserError as exc:
        raise UserError(str(exc).replace("--cfg-options", "--eval-options")) from None
    if not 0.0 <= args.show_score_thr <= 1.0:
        raise UserError(f"--show-score-thr: expected a number in [0, 1] (got "
                        f"{args.show_score_thr})")
    if args.gpu_id < 0:
        raise UserError(f"--gpu-id: expected a device id >= 0 (got {args.gpu_id})")
    if not os.path.exists(args.checkpoint):
        raise UserError(f"checkpoint: {args.checkpoint!r} does not exist")
    if args.local_rank is not None and "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)  # as mmcv does
    if args.show:
        distributed = args.launcher != "none" or int(os.environ.get("WORLD_SIZE", "1")) > 1
        if distributed:
            raise UserError("--show: only with one process (pictures from several ranks: "
                            "--show-dir DIR)")
        from ocr_ds.engine.show import display_available

        why = display_available()
        if why:
            raise UserError(f"--show: {why}; write the pictures with --show-dir DIR instead")
    return args


def check_outputs(args: argparse.Namespace) -> None:
    """Every output path can be made, before anything is predicted or written."""
    from ocr_ds.outputs import check_dir_creatable, check_file_creatable

    if args.out:
        check_file_creatable(args.out, "--out")
    if args.show_dir:
        check_dir_creatable(args.show_dir, "--show-dir")
    if args.tmpdir:
        check_dir_creatable(args.tmpdir, "--tmpdir")
    rank_list = args.eval_kwargs.get("rank_list")
    if rank_list:
        check_file_creatable(rank_list, "--eval-options rank_list")


def check_pictures(cfg: Mapping[str, Any], args: argparse.Namespace) -> None:
    """``--show``/``--show-dir`` draw on the test images: a dataset of texts alone (NER) has
    none, which is said before anything runs (not an empty directory afterwards); a KIE model's
    ``class_list`` (the names its pictures give the classes) is read now, into
    ``args.class_names``."""
    from ocr_ds.config.check_objects import dataset_class, dataset_members
    from ocr_ds.engine.show import read_class_list

    if not (args.show or args.show_dir):
        return
    class_list = (cfg.get("model") or {}).get("class_list")
    args.class_names = read_class_list(str(class_list)) if class_list else None
    spec = cfg["data"]["test"]
    for member, key in dataset_members(spec, "data.test"):
        cls = dataset_class(member)  # None: the config check has said so
        if cls is not None and not getattr(cls, "has_images", True):
            flag = "--show-dir" if args.show_dir else "--show"
            raise UserError(f"{flag}: {key} ({cls.__name__}) has no images to draw on; "
                            "leave out --show/--show-dir (--out writes the predictions)")


def eval_kwargs(cfg: Mapping[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """MMOCR's: the config's ``evaluation`` minus the hook's own keys, ``metric`` from
    ``--eval``, then ``--eval-options``."""
    from ocr_ds.engine.hooks.evaluation import HOOK_ONLY_KEYS

    kwargs = {k: v for k, v in dict(cfg.get("evaluation") or {}).items()
              if k not in HOOK_ONLY_KEYS}
    kwargs["metric"] = args.eval
    kwargs.update(args.eval_kwargs)
    return kwargs


def check_eval_kwargs(dataset: Any, cfg: Mapping[str, Any], args: argparse.Namespace) -> None:
    """The evaluation arguments bound to ``dataset.evaluate`` before anything is predicted (a
    wrong one would fail only after the predictions, with ``--out`` written)."""
    from ocr_ds.config.arguments import check_arguments
    from ocr_ds.config.check import raise_problems

    kwargs = eval_kwargs(cfg, args)
    problems = []
    for key, names in (("evaluation", [k for k in kwargs if k not in args.eval_kwargs]),
                       ("--eval-options", list(args.eval_kwargs))):
        part = {k: kwargs[k] for k in names if k != "metric"}
        problems += check_arguments(dataset.evaluate, {"results": [], **part}, key)
    raise_problems([p.replace("--eval-options.", "--eval-options ", 1) for p in problems])


def build_test_dataset(spec: Any) -> Any:
    """``data.test`` in test mode (a list of datasets is concatenated, as MMOCR does)."""
    from ocr_ds import registry

    as_list = isinstance(spec, (list, tuple))
    if as_list:
        spec = {"type": "ConcatDataset", "datasets": list(spec)}
    spec = dict(spec)
    if spec.get("type") in ("ConcatDataset", "UniformConcatDataset"):
        spec["datasets"] = [dict(d, test_mode=True) for d in spec.get("datasets") or []]
    else:
        spec["test_mode"] = True
    try:
        return registry.build(registry.DATASETS, spec, "data.test")
    except UserError as exc:
        if as_list:  # the user wrote data.test = [...]: no 'datasets' key in their path
            raise UserError(str(exc).replace("data.test.datasets.", "data.test.", 1)) from None
        raise


def run(args: argparse.Namespace) -> dict[str, float] | None:
    """Predict, collect, write, evaluate; returns the metrics (rank 0, with --eval)."""
    from ocr_ds.checkpoint_io import load_checkpoint_any
    from ocr_ds.config import Config, parse_cfg_options
    from ocr_ds.config.check import check_config, raise_problems
    from ocr_ds.tools._infer_common import build_with_weights, strip_pretrained

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    raise_problems(check_config(cfg, mode="test", eval_metrics=args.eval,
                                build=args.dry_run or check_only()))
    check_outputs(args)
    check_pictures(cfg, args)
    state, _ = load_checkpoint_any(args.checkpoint, args.allow_unsafe_pickle)
    model = build_with_weights(strip_pretrained(cfg["model"]), state, source=args.checkpoint)
    if check_only():
        return None
    if args.dry_run:
        print(f"{args.config}: config checked; {args.checkpoint}: {len(state)} tensors fit "
              f"{cfg['model']['type']}")
        return None
    from ocr_ds.engine.preflight import check_image_dirs

    dataset = build_test_dataset(cfg["data"]["test"])
    check_image_dirs(dataset, "data.test")
    if args.eval:
        check_eval_kwargs(dataset, cfg, args)
    return _predict_and_report(cfg, args, model, dataset)


def _predict_and_report(cfg: Any, args: argparse.Namespace, model: Any,
                        dataset: Any) -> dict[str, float] | None:
    import torch

    from ocr_ds.atomic import atomic_write
    from ocr_ds.engine import dist
    from ocr_ds.engine.data import (build_loader, loader_settings, process_settings,
                                    setup_multi_processes)
    from ocr_ds.engine.evaluate import collect, plain_metrics, predict
    from ocr_ds.engine.progress import ProgressBar
    from ocr_ds.engine.train import make_logger

    distributed = args.launcher != "none" or int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        from ocr_ds.engine import builder
        from ocr_ds.engine.launch import setup_env

        setup_env(args.launcher, cfg.get("dist_params"), args.local_rank)
        builder.init_distributed()
    rank, world = dist.get_rank(), dist.get_world_size()
    if torch.cuda.is_available():
        index = int(os.environ.get("LOCAL_RANK", "0")) if distributed else args.gpu_id
        device = torch.device("cuda", index)
    else:
        device = torch.device("cpu")
    logger = make_logger(None, rank)
    settings = loader_settings(cfg["data"], "test")
    proc = process_settings(cfg)
    setup_multi_processes(proc, settings["workers_per_gpu"], logger)
    if args.fuse_conv_bn:
        from ocr_ds.engine.fuse import fuse_conv_bn

        model = fuse_conv_bn(model)
    model = model.to(device)
    on_sample = _picture_maker(args, dataset, bool(getattr(model, "openset", False))) \
        if args.show or args.show_dir else None
    loader = build_loader(dataset, settings, rank=rank, world_size=world, seed=0, device=device,
                          mp_start_method=proc["mp_start_method"])
    unit = "img" if getattr(dataset, "has_images", True) else "sample"  # NER: texts
    bar = ProgressBar(len(dataset), unit=unit) if rank == 0 else None
    part = predict(model, loader, device=device, world_size=world, rank=rank,
                   length=len(dataset), on_sample=on_sample, progress=bar)
    if bar is not None:
        bar.close()
    outputs = collect(part, len(dataset), gpu_collect=args.gpu_collect, tmpdir=args.tmpdir)
    if rank != 0:
        return None
    if args.out:
        print(f"\nwriting results to {args.out}")
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        atomic_write(args.out, json.dumps(outputs))
    if not args.eval:
        return None
    metrics = dataset.evaluate(outputs, logger=logger, **eval_kwargs(cfg, args))
    metrics = plain_metrics(metrics)
    print(metrics, flush=True)
    return metrics


def _picture_maker(args: argparse.Namespace, dataset: Any, openset: bool) -> Any:
    """``on_sample`` for :func:`ocr_ds.engine.evaluate.predict`: draw each prediction on the
    image as read, into ``--show-dir`` and/or a window (``--show``); an open-set KIE model's
    as key -> value pairs."""
    from ocr_ds.engine import show

    show.tap_pipelines(dataset)

    def on_sample(index: int, pred: Any, raw: Any) -> None:
        if raw is None:  # a placeholder for an unreadable image: nothing to draw on
            return
        picture = show.draw_prediction(raw[0], pred, args.show_score_thr, *raw[2:],
                                       idx_to_cls=args.class_names, openset=openset)
        if args.show_dir:
            show.save_picture(args.show_dir, raw[1], picture)
        if args.show:
            show.show_window(picture, raw[1])

    return on_sample


def main(argv: Sequence[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    run_cli(main)

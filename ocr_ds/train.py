"""Train an MMOCR 0.x config on DeepSpeed (the interface of MMOCR's ``tools/train.py``).

Examples::

    # one process (CPU or one GPU)
    python ocr_ds/train.py configs/textrecog/crnn/crnn_synth_cpu.py
    # all local devices (or --num_gpus 2: two CPU ranks on a machine without GPUs)
    deepspeed --num_gpus 2 ocr_ds/train.py --config configs/textrecog/crnn/crnn_synth_cpu.py
    # several machines
    deepspeed --hostfile launch/hostfile.example ocr_ds/train.py --config cfg.py
    # print the DeepSpeed JSON the config translates to, and exit
    python ocr_ds/train.py cfg.py --dry-run --cfg-options optimizer.lr=0.01

Bad input (config, flags, data) is reported in one line on stderr with exit code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

if __package__ in (None, ""):  # run as a script: import the package, not this file's folder
    _root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    sys.path.insert(0, _root)

from ocr_ds.errors import (CliParser, UserError, add_unsafe_pickle_flag,  # noqa: E402
                            check_only, run_cli)


def build_parser() -> argparse.ArgumentParser:
    p = CliParser(prog="ocr_ds/train.py", description="Train an OCR model (MMOCR 0.x config) on DeepSpeed.")
    p.add_argument("config_pos", nargs="?", metavar="config", help="train config file path")
    p.add_argument("--config", dest="config_opt", metavar="CONFIG",
                   help="train config file path (alternative to the positional argument)")
    p.add_argument("--work-dir", help="the dir to save logs and models "
                   "(default: cfg.work_dir, else ./work_dirs/<config name>)")
    p.add_argument("--load-from", help="checkpoint (.pth or our checkpoint dir) to start from")
    p.add_argument("--resume-from", help="checkpoint dir (or work dir with 'latest') to resume from")
    p.add_argument("--auto-resume", action="store_true",
                   help="resume from the newest complete checkpoint in the work dir, if any")
    p.add_argument("--no-validate", action="store_true", help="do not evaluate during training")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--gpus", type=int, help="number of devices to use (launcher none)")
    group.add_argument("--gpu-ids", type=int, nargs="+", help="ids of devices to use (launcher none)")
    group.add_argument("--gpu-id", type=int,
                       help="the one device to use (launcher none; MMOCR's, as --gpu-ids ID)")
    p.add_argument("--seed", type=int, help="random seed (default: drawn on rank 0 and shared)")
    p.add_argument("--diff-seed", action="store_true",
                   help="seed rank R with seed + R once the model is built (MMOCR's)")
    p.add_argument("--deterministic", action="store_true", help="deterministic kernels")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config settings, e.g. optimizer.lr=0.01 data.samples_per_gpu=8")
    p.add_argument("--options", nargs="+", default=None, metavar="KEY=VALUE",
                   help="deprecated in favour of --cfg-options (MMOCR's)")
    p.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none",
                   help="job launcher (none also covers the deepspeed launcher)")
    p.add_argument("--local_rank", "--local-rank", type=int, default=None, dest="local_rank")
    p.add_argument("--mc-config", help="config file with mc_file_client_args (memcached image cache)")
    p.add_argument("--deepspeed-config", "--ds-config", dest="deepspeed_config",
                   help="DeepSpeed JSON merged over the translated config (wins on conflicts)")
    add_unsafe_pickle_flag(p, "--load-from checkpoints")
    p.add_argument("--dry-run", action="store_true",
                   help="check the whole config (every problem, one line each, exit 2), print "
                   "the DeepSpeed JSON on stdout, its notes on stderr, and exit (creates nothing; "
                   "at ZeRO stage >= 1 the model is built on the meta device to size ZeRO's "
                   "buffers)")
    p.add_argument("--stop-signal", metavar="SIG",
                   help="also stop cleanly on this signal (e.g. SIGUSR1), as on SIGTERM: finish the "
                   "iteration, save a checkpoint, exit 75 (default: cfg.stop_signal)")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    if args.config_pos and args.config_opt and args.config_pos != args.config_opt:
        raise UserError(f"config given twice: {args.config_pos!r} and --config {args.config_opt!r}")
    args.config = args.config_opt or args.config_pos
    if not args.config:
        raise UserError("config: expected a config file (positional or --config)")
    if args.gpus is not None and args.gpus < 1:
        raise UserError(f"--gpus: expected a positive integer (got {args.gpus})")
    if args.gpu_ids is not None and any(i < 0 for i in args.gpu_ids):
        raise UserError(f"--gpu-ids: expected device ids >= 0 (got {args.gpu_ids})")
    if args.gpu_id is not None:
        if args.gpu_id < 0:
            raise UserError(f"--gpu-id: expected a device id >= 0 (got {args.gpu_id})")
        args.gpu_ids = [args.gpu_id]
    if args.options is not None:
        if args.cfg_options:
            raise UserError("--options: --options and --cfg-options cannot be both specified, "
                            "--options is deprecated in favor of --cfg-options")
        args.cfg_options = args.options
    if args.seed is not None and not 0 <= args.seed < 2**32:
        raise UserError(f"--seed: expected an integer in [0, 2**32) (got {args.seed})")
    if args.local_rank is not None and "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(args.local_rank)  # as mmcv does
    for flag in ("load_from", "resume_from", "mc_config", "deepspeed_config"):
        path = getattr(args, flag)
        if path and not os.path.exists(path):
            raise UserError(f"--{flag.replace('_', '-')}: {path!r} does not exist")
    return args


def inject_mc_config(cfg: Any, path: str) -> None:
    """MMOCR's ``--mc-config``: read images of every training dataset through that file client."""
    from ocr_ds.config import Config

    from ocr_ds.fileio import FileClient

    mc = Config.fromfile(path)
    if "mc_file_client_args" not in mc:
        raise UserError(f"--mc-config {path}: expected a key mc_file_client_args=dict(backend=...)")
    spec = mc["mc_file_client_args"]
    client = spec.to_dict() if hasattr(spec, "to_dict") else spec
    if not isinstance(client, dict) or "backend" not in client:
        raise UserError(f"--mc-config {path}: mc_file_client_args: expected a dict like "
                        f"dict(backend=..., ...) (got {client!r})")
    try:
        FileClient(**client)  # checks the backend name and its arguments, connects to nothing
    except UserError as exc:
        message = str(exc).replace("file_client_args", "mc_file_client_args", 1)
        raise UserError(f"--mc-config {path}: {message}") from None
    train = (cfg.get("data") or {}).get("train")
    if not train:
        raise UserError("--mc-config: expected a config with data.train to read images for")
    datasets = train if isinstance(train, (list, tuple)) else train.get("datasets", [train])
    for i, ds in enumerate(datasets):
        pipeline = ds.get("pipeline") if isinstance(ds, dict) else None
        if not pipeline:
            raise UserError(f"--mc-config: data.train dataset {i} has no pipeline to inject into "
                            "(expected a pipeline whose first step loads the image)")
        pipeline[0]["file_client_args"] = client


def load_config(args: argparse.Namespace) -> Any:
    from ocr_ds.config import Config, parse_cfg_options

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    if args.mc_config:
        inject_mc_config(cfg, args.mc_config)
    return cfg


def decide_work_dir(args: argparse.Namespace, cfg: Any) -> str:
    """mmcv's precedence: --work-dir > cfg.work_dir > ./work_dirs/<config stem>."""
    if args.work_dir:
        return args.work_dir
    if cfg.get("work_dir"):
        return cfg["work_dir"]
    return os.path.join("./work_dirs", os.path.splitext(os.path.basename(args.config))[0])


def world_size_hint(args: argparse.Namespace) -> int:
    from ocr_ds.engine.dist import env_world_size

    if args.gpu_ids:
        return len(args.gpu_ids)
    return args.gpus or env_world_size()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = load_config(args)
    ds_overrides, ds_name = None, "ds_config"
    if args.deepspeed_config:
        ds_name = args.deepspeed_config
        from ocr_ds.translate import load_ds_json

        ds_overrides = load_ds_json(args.deepspeed_config)
    work_dir = decide_work_dir(args, cfg)
    cfg["work_dir"] = work_dir
    import torch

    from ocr_ds.config.check import check_config, config_notes, raise_problems

    accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    # every problem the config shows without data, all at once, before any rank starts; a dry
    # run also builds the model and the pipelines (a real run does that next anyway)
    raise_problems(check_config(cfg, world_size=world_size_hint(args), accelerator=accelerator,
                                validate=not args.no_validate, ds_overrides=ds_overrides,
                                ds_overrides_name=ds_name, work_dir=work_dir,
                                build=args.dry_run))
    if os.environ.get("RANK", "0") == "0":  # once, not from every rank
        for note in config_notes(cfg):
            print(f"note: {note}", file=sys.stderr)
    if check_only():
        return 0
    if args.dry_run:
        from ocr_ds.translate import translate

        kwargs = dict(world_size=world_size_hint(args), accelerator=accelerator,
                      ds_overrides=ds_overrides, ds_overrides_name=ds_name)
        tr = translate(cfg, **kwargs)
        if (tr.ds_config.get("zero_optimization") or {}).get("stage", 0):
            # ZeRO's buffer sizes come from the model: measure it on the meta device
            from ocr_ds.engine.builder import measure_model

            try:
                facts = measure_model(cfg)
            except UserError as exc:  # e.g. pretrained weights missing here: still print
                print(f"note: zero_optimization: buffer sizes not derived in this dry run, the "
                      f"model cannot be built here ({exc}); training derives them",
                      file=sys.stderr)
            else:
                tr = translate(cfg, **kwargs, model_facts=facts)
        for note in tr.notes:
            print(f"note: {note}", file=sys.stderr)
        print(json.dumps(tr.ds_config, indent=2, sort_keys=True))
        return 0
    from ocr_ds.engine.allocator import setup_cpu_malloc, zero_stage

    # before any rank starts: in this process by mallopt, in the ranks --gpus N starts by the
    # environment they inherit
    setup_cpu_malloc(cfg.get("cpu_malloc"), zero=zero_stage(cfg, ds_overrides))
    if args.launcher == "none" and (args.gpus or args.gpu_ids) and "WORLD_SIZE" not in os.environ:
        from ocr_ds.engine.spawn import spawn_local_ranks

        from ocr_ds.engine.stop import stop_signals

        code = spawn_local_ranks(sys.argv[1:] if argv is None else list(argv), args.gpus,
                                 args.gpu_ids, cfg.get("dist_params"),
                                 stop_signals(args.stop_signal, cfg))
        if code is not None:  # None: a single rank, trained in this process
            return code
    from ocr_ds.engine.launch import setup_env
    from ocr_ds.engine.train import train

    setup_env(args.launcher, cfg.get("dist_params"), args.local_rank)
    train(cfg, work_dir=work_dir, config_path=args.config, seed=args.seed,
          diff_seed=args.diff_seed, deterministic=args.deterministic,
          validate=not args.no_validate,
          load_from=args.load_from or cfg.get("load_from"),
          resume_from=args.resume_from or cfg.get("resume_from"), auto_resume=args.auto_resume,
          allow_unsafe_pickle=args.allow_unsafe_pickle,
          ds_overrides=ds_overrides, ds_overrides_name=ds_name, stop_signal=args.stop_signal)
    return 0


def _main_with_faults() -> int:
    from ocr_ds.engine.stop import EXIT_STOPPED, Stopped
    from ocr_ds.errors import TrainingFault

    try:
        return main()
    except TrainingFault as exc:  # a training fault, not bad input: one line, exit 1
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    except Stopped:  # asked to stop (signal, launcher gone): a checkpoint was saved and logged
        return EXIT_STOPPED


if __name__ == "__main__":
    run_cli(_main_with_faults)

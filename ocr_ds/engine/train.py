"""One training run, in mmcv's start-up order (REFERENCE §1) and DeepSpeed's build order.

init distributed -> work dir, config dump, log file -> seed -> model -> ``load_from`` weights
-> datasets -> DeepSpeed JSON (translate) -> ``deepspeed.initialize`` -> loaders, schedule,
hooks -> ``resume_from`` -> loop.

One deviation from mmcv: everything a user can get wrong is checked before the work dir is
created (config values, DeepSpeed JSON, schedule, ``load_from`` weights, datasets and their
images, the train loader's batch count, the ``resume_from`` checkpoint), so bad input exits 2
and leaves nothing behind; the work dir, config dump and log file then come right before
``deepspeed.initialize``.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from typing import Any, Mapping

import torch

from ocr_ds import registry
from ocr_ds.engine import allocator, builder, dist, stop, universal
from ocr_ds.engine import workflow as wf
from ocr_ds.engine import checkpoint as ckpt
from ocr_ds.engine.data import (build_loader, loader_settings, process_settings,
                                 setup_multi_processes)
from ocr_ds.engine.evaluate import plain_metrics
from ocr_ds.engine.hooks.build import build_hooks
from ocr_ds.engine.hooks.lr import LrUpdaterHook
from ocr_ds.engine.hooks.momentum import MomentumUpdaterHook
from ocr_ds.engine.hooks.startup import StartupTimes
from ocr_ds.engine.preflight import check_datasets
from ocr_ds.engine.runner import Runner, to_device
from ocr_ds.engine.synth import ensure_synth_data
from ocr_ds.engine.seed import init_random_seed, set_random_seed
from ocr_ds.errors import UserError
from ocr_ds.schedules.run import run_length

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def make_logger(log_file: str | None, rank: int) -> logging.Logger:
    logger = logging.getLogger("ocr_ds")
    logger.handlers.clear()
    logger.propagate = False
    logger.setLevel(logging.INFO if rank == 0 else logging.ERROR)
    fmt = logging.Formatter(LOG_FORMAT)
    stream = logging.StreamHandler(sys.stdout)
    stream.setFormatter(fmt)
    logger.addHandler(stream)
    if log_file and rank == 0:
        fh = logging.FileHandler(log_file, "w")
        fh.setFormatter(fmt)
        logger.addHandler(fh)
    return logger


def env_info() -> dict[str, str]:
    import deepspeed

    return {"sys.platform": sys.platform, "Python": sys.version.replace("\n", ""),
            "PyTorch": torch.__version__, "DeepSpeed": deepspeed.__version__,
            "CUDA available": str(torch.cuda.is_available()), "host": platform.node(),
            "CPU malloc": allocator.applied,
            "world_size": str(dist.get_world_size())}


def build_datasets(cfg: Mapping[str, Any], validate: bool):
    data = cfg.get("data")
    if not isinstance(data, Mapping) or "train" not in data:
        raise UserError("data.train: expected a dataset dict (got nothing)")
    train = _build_dataset(data["train"], "data.train", test_mode=False)
    val = None
    if validate and data.get("val") is not None:
        val = _build_dataset(data["val"], "data.val", test_mode=True)
    return train, val


def _build_dataset(spec: Any, key: str, test_mode: bool):
    if isinstance(spec, (list, tuple)):  # MMOCR: a list of datasets is concatenated
        spec = {"type": "ConcatDataset", "datasets": list(spec)}
    spec = dict(spec)
    if spec.get("type") != "ConcatDataset":
        spec.setdefault("test_mode", test_mode)
    else:
        spec["datasets"] = [dict(d, test_mode=d.get("test_mode", test_mode)) for d in spec["datasets"]]
    return registry.build(registry.DATASETS, spec, key)


def make_evaluate(engine: Any, loader: Any, dataset: Any, logger: logging.Logger,
                  device: torch.device, dtype: torch.dtype | None, channels_last: bool = False):
    """The evaluation callable the EvalHook uses: forward on every rank, metrics on rank 0."""

    def evaluate(metric_args: Mapping[str, Any]) -> dict[str, float]:
        model = engine.module
        model.eval()
        indices = list(iter(loader.sampler))
        results: list[Any] = []
        with torch.no_grad():
            for batch in loader:
                results.extend(engine(to_device(batch, device, dtype, channels_last),
                                      return_loss=False))
        model.train()
        # predictions go to rank 0 only (the metrics are computed there)
        gathered = dist.gather_object(list(zip(indices, results)))
        metrics = None
        if dist.is_main():
            by_index = {}
            for part in gathered:
                by_index.update(part)
            ordered = [by_index[i] for i in range(len(dataset))]
            metrics = plain_metrics(dataset.evaluate(ordered, logger=logger, **metric_args))
        return dist.broadcast_object(metrics)

    return evaluate


def train(cfg: Any, *, stop_signal: Any = None, **kwargs: Any) -> None:
    """Train (``kwargs``: see :func:`_train`). SIGTERM and ``stop_signal`` (else the config's)
    stop it cleanly: it raises :class:`~ocr_ds.engine.stop.Stopped` after saving a checkpoint,
    and does so too when the launcher of this rank is gone (:mod:`ocr_ds.engine.stop`)."""
    startup = StartupTimes()
    startup.mark("Python and imports")
    signals = stop.stop_signals(stop_signal, cfg)
    # a launcher gone during start-up is acted on after the first iteration
    stop.watch_launchers()
    stopped = False
    try:
        _train(cfg, signals=signals, startup=startup, **kwargs)
    except stop.Stopped:
        stopped = True
        raise
    finally:
        stop.uninstall(stopped)


def _train(cfg: Any, *, work_dir: str, config_path: str, seed: int | None, deterministic: bool,
           validate: bool, load_from: str | None, resume_from: str | None, auto_resume: bool,
           diff_seed: bool = False,
           ds_overrides: Mapping[str, Any] | None, ds_overrides_name: str = "ds_config",
           allow_unsafe_pickle: bool = False, signals: tuple = (),
           startup: StartupTimes | None = None) -> None:
    from ocr_ds.config.check import raise_problems
    from ocr_ds.config.check_objects import scheduled_beta_problems
    from ocr_ds.schedules import LrSchedule, MomentumSchedule
    from ocr_ds.translate import translate

    startup = startup or StartupTimes()
    builder.init_distributed()
    startup.mark("process group")
    rank, world = dist.get_rank(), dist.get_world_size()
    logger = make_logger(None, rank)
    # Everything a user can get wrong is checked before the work dir is created, so a bad
    # config leaves nothing behind: limits, DeepSpeed JSON, schedule, hooks, model, datasets,
    # the images they read, the train loader's length and the checkpoint to resume from.
    max_epochs, max_iters_cfg = run_length(cfg)
    workflow = wf.parse_workflow(cfg)
    accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    tr = translate(cfg, world_size=world, accelerator=accelerator, ds_overrides=ds_overrides,
                   ds_overrides_name=ds_overrides_name)
    # an epoch-based run's iteration count waits for the train loader (below)
    LrSchedule.from_config(cfg.get("lr_config"), max_epochs=max_epochs, max_iters=max_iters_cfg,
                           iters_per_epoch=1)
    MomentumSchedule.from_config(cfg.get("momentum_config"), max_epochs=max_epochs,
                                 max_iters=max_iters_cfg)
    seed = init_random_seed(seed)
    set_random_seed(seed, deterministic)
    model = builder.build_model(cfg)
    if (tr.ds_config.get("zero_optimization") or {}).get("stage", 0):
        # again, with ZeRO's buffers sized from the model (the first call checked the config
        # before the model was built)
        tr = translate(cfg, world_size=world, accelerator=accelerator, ds_overrides=ds_overrides,
                       ds_overrides_name=ds_overrides_name,
                       model_facts=builder.model_facts(model))
    if load_from:
        builder.load_weights(model, load_from, logger, allow_unsafe_pickle)
    if diff_seed and rank:
        # MMOCR's --diff-seed: rank R draws from seed + R. The model is built from the shared
        # seed (MMOCR's DDP copies rank 0's weights anyway), the sampler shuffles from it; the
        # loader's workers seed from seed + R (below)
        set_random_seed(seed + rank, deterministic)
    ensure_synth_data(cfg.get("synth_data"), logger)
    train_set, val_set = build_datasets(cfg, validate)
    # the workflow's val phase: data.val with the training pipeline (also with --no-validate)
    val_loss_set = wf.build_val_loss_dataset(cfg) if workflow.has_val else None
    data_cfg = cfg["data"]
    train_settings = loader_settings(data_cfg, "train")
    # an explicit DeepSpeed micro batch wins over data.samples_per_gpu (the translator notes it)
    train_settings["samples_per_gpu"] = tr.ds_config["train_micro_batch_size_per_gpu"]
    val_settings = loader_settings(data_cfg, "val") if val_set is not None else None
    proc_settings = process_settings(cfg)
    hooks = build_hooks(cfg, schedule=None, runner_by_epoch=max_epochs is not None,
                        validate=val_set is not None)
    check_datasets(train_set, val_set, val_loss_set)
    device = builder.device()
    # --diff-seed: MMOCR's workers seed from the rank's seed (num_workers * R + worker + seed +
    # R), its sampler from rank 0's (mmdet syncs it)
    loader_args = dict(rank=rank, world_size=world, seed=seed, device=device,
                       mp_start_method=proc_settings["mp_start_method"], ignore_signals=signals,
                       worker_seed=seed + rank if diff_seed else seed)
    train_loader = build_loader(train_set, train_settings, **loader_args)
    iters_per_epoch = len(train_loader)
    if iters_per_epoch == 0:
        raise UserError(f"data.train: {len(train_set)} samples give no full batch of "
                        f"{train_loader.batch_size} per rank at world size {world}")
    val_loss_loader = None
    if val_loss_set is not None:  # MMOCR: every workflow loader takes the training settings
        val_loss_loader = build_loader(val_loss_set, train_settings, **loader_args)
        if len(val_loss_loader) == 0:
            raise UserError(f"data.val: {len(val_loss_set)} samples give no full batch of "
                            f"{val_loss_loader.batch_size} per rank at world size {world} (the "
                            "workflow's 'val' phase takes the training loader's settings)")
    max_iters = max_iters_cfg or max_epochs * iters_per_epoch
    for hook in hooks:  # with the run's real length, still before anything is written
        if isinstance(hook, LrUpdaterHook):
            hook.schedule = LrSchedule.from_config(cfg.get("lr_config"), max_epochs=max_epochs,
                                                   max_iters=max_iters,
                                                   iters_per_epoch=iters_per_epoch)
        if isinstance(hook, MomentumUpdaterHook):
            hook.schedule = MomentumSchedule.from_config(cfg.get("momentum_config"),
                                                         max_epochs=max_epochs, max_iters=max_iters)
            raise_problems(scheduled_beta_problems(hook.schedule, tr.ds_config.get("optimizer"),
                                                   max_iters, iters_per_epoch))
    startup.mark("model and data")
    if auto_resume:  # as mmdet: the newest checkpoint of this work dir wins over resume_from
        resume_from = ckpt.find_resume(_checkpoint_root(cfg, work_dir)) or resume_from
    universal_from = None
    if resume_from:
        # before anything is written: the files, the optimizer-state layout and the shapes
        root, tag, saved = ckpt.check_fits(
            resume_from, model, (tr.ds_config.get("zero_optimization") or {}).get("stage", 0))
        if universal.needs_conversion(os.path.join(root, tag), saved, world):
            # another world size: DeepSpeed must be told at initialize to read the universal
            # format
            universal_from = os.path.join(root, tag)
            tr.ds_config["checkpoint"] = dict(tr.ds_config.get("checkpoint") or {},
                                              load_universal=True)

    if rank == 0:
        os.makedirs(work_dir, exist_ok=True)
        cfg.dump(os.path.join(work_dir, os.path.basename(config_path)))
    timestamp = dist.broadcast_object(time.strftime("%Y%m%d_%H%M%S"))
    logger = make_logger(os.path.join(work_dir, f"{timestamp}.log"), rank)
    info = env_info()
    logger.info("Environment info:\n" + "\n".join(f"{k}: {v}" for k, v in info.items()))
    logger.info("Config:\n%s", cfg.pretty_text)
    logger.info("Set random seed to %d, deterministic: %s", seed, deterministic)
    setup_multi_processes(proc_settings, train_settings["workers_per_gpu"], logger)
    meta = {"env_info": "\n".join(f"{k}: {v}" for k, v in info.items()), "config": cfg.pretty_text,
            "seed": seed, "exp_name": os.path.basename(config_path)}
    for note in tr.notes:
        logger.info("deepspeed config: %s", note)
    logger.info("DeepSpeed config:\n%s", json.dumps(tr.ds_config, indent=1))
    engine = builder.build_engine(model, tr.ds_config, tr.speed)

    evaluate = None
    if val_set is not None:
        val_loader = build_loader(val_set, val_settings, **loader_args)
        evaluate = make_evaluate(engine, val_loader, val_set, logger, device,
                                 builder.input_dtype(tr.ds_config), tr.speed.channels_last)
    runner = Runner(engine=engine, train_loader=train_loader, hooks=[*hooks, startup],
                    work_dir=work_dir,
                    max_epochs=max_epochs, max_iters=max_iters, iters_per_epoch=iters_per_epoch,
                    logger=logger, meta=meta, input_dtype=builder.input_dtype(tr.ds_config),
                    device=device, timestamp=timestamp, cfg=cfg, evaluate=evaluate,
                    channels_last=tr.speed.channels_last,
                    stop_check_interval=stop.check_interval(cfg),
                    workflow=workflow, val_loader=val_loss_loader)

    skip = 0
    if resume_from:
        skip = resume(runner, resume_from, world, universal_from)
    startup.mark("DeepSpeed engine")
    logger.info("workflow: %s, max: %s", workflow, f"{max_epochs} epochs" if max_epochs
                else f"{max_iters} iters")
    stop.install(signals)  # from here on these signals stop cleanly (before: at once)
    try:
        runner.run(skip_samples=skip)
    except stop.Stopped as exc:
        logger.warning("Training stopped at epoch %d, iter %d (%s); checkpoint %s is complete: "
                       "run again with --auto-resume to continue (exit code %d)", runner.epoch + 1,
                       exc.iteration, exc.reason, exc.checkpoint, stop.EXIT_STOPPED)
        raise
    logger.info("Training finished: epoch %d, iter %d", runner.epoch, runner.iter)


def _checkpoint_root(cfg: Mapping[str, Any], work_dir: str) -> str:
    out_dir = (cfg.get("checkpoint_config") or {}).get("out_dir")
    return os.path.join(out_dir, os.path.basename(os.path.normpath(work_dir))) if out_dir else work_dir


def resume(runner: Runner, path: str, world: int, universal_from: str | None = None) -> int:
    """Restore a checkpoint into ``runner``; returns the samples of the epoch this rank skips.

    ``universal_from``: the checkpoint was written at another world size with ZeRO shards; it is
    read through DeepSpeed's universal format (:mod:`ocr_ds.engine.universal`)."""
    if universal_from:
        universal.use_own_stage3_loader(runner.engine)
        meta = ckpt.load(runner.engine, path, universal.convert(universal_from, runner.logger))
        universal.restore_buffers(runner.engine, universal_from)
    else:
        meta = ckpt.load(runner.engine, path)
    runner.epoch, runner.iter = meta["epoch"], meta["iter"]
    old_world = meta.get("world_size", world)
    if old_world != world:  # mmcv rescales the iteration count when the world size changes
        runner.iter = meta["iter"] * old_world // world
        runner.logger.warning("world size changed from %d to %d: iteration %d rescaled to %d",
                              old_world, world, meta["iter"], runner.iter)
    states = meta.get("hooks", {})
    for hook in runner.hooks:
        if type(hook).__name__ in states:
            hook.load_state_dict(states[type(hook).__name__])
    runner.logger.info("resumed from %s: epoch %d, iter %d", path, runner.epoch, runner.iter)
    # the samples of the running epoch already trained on, by all ranks together, now shared
    # out over this world size (the sampler deals them round-robin, so they are its first ones)
    seen = meta.get("inner_iter", 0) * meta.get("samples_per_gpu", runner.train_loader.batch_size)
    return seen * old_world // world

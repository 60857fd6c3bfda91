"""Check a whole config without data: every problem found, one line each, full key paths.

``train.py --dry-run`` and ``test.py --dry-run`` print what :func:`check_config` returns (exit 2
when anything is wrong), and a real run calls it first, before DeepSpeed starts or a data file
is opened, so a config with four problems shows four lines in one run instead of one per run.

What is checked, section by section (each one is checked even when an earlier one failed):

- run length (``runner`` / ``total_epochs``), ``workflow`` (with a ``'val'`` phase: ``data.val``
  and the training pipeline it runs through), ``lr_config`` and ``momentum_config`` (every
  policy argument; the optimizer must have a momentum or betas for ``momentum_config``, and an
  iteration-based run's scheduled ``betas[0]`` stay below 1);
- the DeepSpeed translation (``optimizer``, ``optimizer_config``, ``fp16``/``bf16``/``autocast``,
  ``deepspeed``, ``data.samples_per_gpu``) and the optimizer's values, built once by torch on a
  dummy parameter;
- every ``type=`` name and constructor argument of the model, the datasets (and their loaders,
  parsers, members), the pipeline steps, ``custom_hooks`` and ``log_config.hooks``, bound
  against each class's signature (:mod:`.check_objects`); then the model and the pipelines are
  built (no data needed) for what only their constructors check;
- loader settings, ``checkpoint_config`` (with ``out_dir``: it must be creatable), ``evaluation``
  (metric names against the validation dataset's classes, ``save_best`` among the metrics it
  will produce, ``rule``), ``log_config``, ``dist_params``, ``mp_start_method``,
  ``opencv_num_threads``, and the work dir (creatable).

Data itself (annotation files, images, lmdbs) is checked by the real run, also before anything
is written (:mod:`ocr_ds.engine.preflight`).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from ocr_ds.config.check_objects import (check_dataset, check_momentum_optimizer,
                                         check_optimizer_values, check_typed, dataset_class,
                                         dataset_members, metric_keys, scheduled_beta_problems)
from ocr_ds.errors import UserError, UserErrors


class _Problems(list):
    """Problem lines in order, each once; :meth:`run` records what a check raises."""

    def add(self, *lines: str) -> None:
        for line in lines:
            if line not in self:
                self.append(line)

    def run(self, check: Callable[[], Any], default: Any = None) -> Any:
        try:
            return check()
        except UserErrors as exc:
            self.add(*exc.messages)
        except UserError as exc:
            self.add(str(exc))
        return default


# the top-level keys ocr_ds reads (README "Keys ocr_ds reads")
READ_KEYS = (
    "model", "data", "optimizer", "optimizer_config", "fp16", "bf16", "autocast", "deepspeed",
    "lr_config", "momentum_config", "total_epochs", "runner", "checkpoint_config", "evaluation",
    "log_config", "custom_hooks", "custom_imports", "dist_params", "work_dir", "load_from",
    "resume_from", "seed", "opencv_num_threads", "mp_start_method", "cudnn_benchmark",
    "find_unused_parameters", "workflow", "log_level", "channels_last", "fused_optimizer",
    "compile", "cpu_malloc", "stop_check_interval", "stop_signal", "synth_data")


def config_notes(cfg: Mapping[str, Any]) -> list[str]:
    """Notes on top-level keys nothing reads that are one typo from a key ocr_ds reads
    (``lr_confg``): mmcv ignores them silently, a config may hold any variable of its own."""
    import difflib

    notes = []
    for key in cfg:
        if key in READ_KEYS or not isinstance(key, str) or key.startswith("_"):
            continue
        close = difflib.get_close_matches(key, READ_KEYS, n=1, cutoff=0.85)
        if close:
            notes.append(f"{key}: not a key ocr_ds reads (it is ignored); did you mean "
                         f"{close[0]!r}?")
    ev, runner = cfg.get("evaluation"), cfg.get("runner")
    if isinstance(ev, Mapping) and ev.get("by_epoch") is True and isinstance(runner, Mapping) \
            and runner.get("type") == "IterBasedRunner":
        notes.append("evaluation.by_epoch: True is replaced by False: as in MMOCR, an "
                     "IterBasedRunner's evaluation interval counts iterations")
    return notes


def check_config(cfg: Mapping[str, Any], *, mode: str = "train", world_size: int = 1,
                 accelerator: str = "cpu", validate: bool = True,
                 ds_overrides: Mapping[str, Any] | None = None,
                 ds_overrides_name: str = "ds_config", work_dir: str | None = None,
                 eval_metrics: Sequence[str] | None = None, build: bool = True) -> list[str]:
    """Every problem of ``cfg`` found without data, one line each (empty: none found).

    Args:
        mode: ``'train'`` (what train.py reads) or ``'test'`` (what test.py reads: the model,
            ``data.test``, ``--eval`` metrics).
        world_size, accelerator, ds_overrides, ds_overrides_name: as for
            :func:`ocr_ds.translate.translate`.
        validate: train mode: whether ``data.val`` is evaluated (``--no-validate`` clears it).
        work_dir: a directory the run will create; checked for being creatable.
        eval_metrics: test mode: the ``--eval`` metric names.
        build: also build the model and the pipelines (after their static checks passed); a
            dry run does, a real run leaves it to the build that follows.
    """
    problems = _Problems()
    if mode == "train":
        max_epochs, max_iters = _check_schedule(cfg, problems)
        ds = _check_translation(cfg, problems, world_size, accelerator, ds_overrides,
                                ds_overrides_name)
        if ds is not None:
            problems.add(*check_optimizer_values(ds.get("optimizer")))
            if cfg.get("momentum_config") is not None:
                _check_momentum(cfg, ds.get("optimizer"), problems, max_iters)
        _check_model(cfg, problems, build)
        _check_data(cfg, problems, "train", build)
        has_val = (cfg.get("data") or {}).get("val") is not None
        if validate and has_val:
            _check_data(cfg, problems, "val", build)
        if _check_workflow(cfg, problems) and has_val and not validate:
            _check_data(cfg, problems, "val", build)  # built for the val phase all the same
        _check_hooks(cfg, problems, by_epoch=max_epochs is not None or max_iters is None,
                     validate=validate)
        from ocr_ds.engine import stop

        problems.run(lambda: stop.stop_signals(None, cfg))
        problems.run(lambda: stop.check_interval(cfg))
        for key, out in _out_dirs(cfg):
            problems.run(lambda: _creatable(out, key))
    else:
        _check_model(cfg, problems, build)
        _check_data(cfg, problems, "test", build)
        if eval_metrics:
            spec = (cfg.get("data") or {}).get("test")
            problems.run(lambda: metric_keys(spec, list(eval_metrics), "--eval"))
    _check_process(cfg, problems)
    if work_dir is not None:
        problems.run(lambda: _creatable(work_dir, "work_dir"))
    return list(problems)


def raise_problems(problems: Sequence[str]) -> None:
    """A :class:`UserErrors` carrying ``problems`` (nothing when empty)."""
    if problems:
        raise UserErrors(problems)


def _out_dirs(cfg: Mapping) -> list[tuple[str, Any]]:
    """``(key, directory)`` of the checkpoints', the evaluation's and the log writers'
    ``out_dir`` (the checkpoints' when given at all: a non-string one is refused as not
    creatable; the others' types are their hooks' to check)."""
    found = []
    ck = cfg.get("checkpoint_config")
    if isinstance(ck, Mapping) and ck.get("out_dir") is not None:
        found.append(("checkpoint_config.out_dir", ck["out_dir"]))
    ev = cfg.get("evaluation")
    if isinstance(ev, Mapping) and isinstance(ev.get("out_dir"), str):
        found.append(("evaluation.out_dir", ev["out_dir"]))
    log = cfg.get("log_config")
    hooks = log.get("hooks") if isinstance(log, Mapping) else None
    for i, spec in enumerate(hooks if isinstance(hooks, (list, tuple)) else []):
        if isinstance(spec, Mapping) and isinstance(spec.get("out_dir"), str):
            found.append((f"log_config.hooks.{i}.out_dir", spec["out_dir"]))
    return found


def _creatable(path: Any, key: str) -> None:
    from ocr_ds.outputs import check_dir_creatable

    check_dir_creatable(path, key)


def _check_schedule(cfg: Mapping, problems: _Problems) -> tuple[int | None, int | None]:
    from ocr_ds.schedules import LrSchedule, MomentumSchedule
    from ocr_ds.schedules.run import run_length

    max_epochs, max_iters = problems.run(lambda: run_length(cfg), (1, None))
    # an epoch-based run's iteration count is known once its data is (train.py checks it then)
    problems.run(lambda: LrSchedule.from_config(
        cfg.get("lr_config"), max_epochs=max_epochs, max_iters=max_iters, iters_per_epoch=1))
    problems.run(lambda: MomentumSchedule.from_config(
        cfg.get("momentum_config"), max_epochs=max_epochs, max_iters=max_iters))
    return max_epochs, max_iters


def _check_momentum(cfg: Mapping, optimizer: Any, problems: _Problems,
                    max_iters: int | None) -> None:
    """The optimizer has a momentum or betas to schedule; an iteration-based run's betas[0]
    stays below 1 (an epoch-based run's length is known, and checked, once the data is)."""
    from ocr_ds.schedules import MomentumSchedule

    found = check_momentum_optimizer(optimizer)
    problems.add(*found)
    if max_iters is None or found:
        return
    schedule = problems.run(lambda: MomentumSchedule.from_config(
        cfg["momentum_config"], max_epochs=None, max_iters=max_iters))
    if schedule is not None:
        problems.add(*scheduled_beta_problems(schedule, optimizer, max_iters, 1))


def _check_workflow(cfg: Mapping, problems: _Problems) -> bool:
    """``workflow``, and what its val phase needs; whether it has a val phase."""
    from ocr_ds.engine.workflow import parse_workflow, val_loss_spec

    workflow = problems.run(lambda: parse_workflow(cfg))
    if workflow is None or not workflow.has_val:
        return False
    problems.run(lambda: val_loss_spec(cfg))
    return True


def _check_translation(cfg: Mapping, problems: _Problems, world_size: int, accelerator: str,
                       ds_overrides: Any, ds_overrides_name: str) -> dict | None:
    """Each translated section alone (so each shows its own problem), then the whole."""
    from ocr_ds.translate import translate
    from ocr_ds.translate.deepspeed_json import _micro_batch
    from ocr_ds.translate.optimizer import (HookSettings, translate_optimizer,
                                            translate_optimizer_hook)
    from ocr_ds.translate.precision import translate_precision

    before = len(problems)
    hook = problems.run(lambda: translate_optimizer_hook(cfg.get("optimizer_config"), []),
                        HookSettings())
    if cfg.get("optimizer") is not None:
        problems.run(lambda: translate_optimizer(cfg.get("optimizer"), []))
    problems.run(lambda: translate_precision(cfg, hook, []))
    problems.run(lambda: _micro_batch(cfg.get("data")))
    if len(problems) > before:
        return None
    tr = problems.run(lambda: translate(cfg, world_size=world_size, accelerator=accelerator,
                                        ds_overrides=ds_overrides,
                                        ds_overrides_name=ds_overrides_name))
    return tr.ds_config if tr is not None else None


def _check_model(cfg: Mapping, problems: _Problems, build: bool) -> None:
    from ocr_ds import registry

    if cfg.get("model") is None:
        problems.add("model: expected a dict with a 'type' key (got nothing)")
        return
    found = check_typed(cfg["model"], "model", "model")
    problems.add(*found)
    if build and not found:  # what only the constructors check (a pretrained file, ...)
        problems.run(lambda: registry.build(registry.MODELS, cfg["model"], "model"))


def _check_data(cfg: Mapping, problems: _Problems, split: str, build: bool) -> None:
    from ocr_ds.engine.data import loader_settings

    data = cfg.get("data")
    if not isinstance(data, Mapping) or data.get(split) is None:
        problems.add(f"data.{split}: expected a dataset dict (got nothing)")
        return
    problems.run(lambda: loader_settings(data, split))
    key = f"data.{split}"
    found = check_dataset(data[split], key)
    problems.add(*found)
    if not build or found:
        return
    from ocr_ds.datasets.pipelines.compose import Compose

    for member, mkey in dataset_members(data[split], key):
        if isinstance(member, Mapping) and member.get("pipeline") is not None:
            problems.run(lambda: Compose(member["pipeline"], f"{mkey}.pipeline"))


def _check_hooks(cfg: Mapping, problems: _Problems, by_epoch: bool, validate: bool) -> None:
    """Each hook section through the real hook builder, alone, plus the static checks."""
    from ocr_ds.engine.hooks.build import build_hooks

    data = cfg.get("data") if isinstance(cfg.get("data"), Mapping) else {}
    val = data.get("val") if validate else None
    for section in ("checkpoint_config", "evaluation", "custom_hooks", "log_config"):
        if cfg.get(section) is None:
            continue
        alone: dict[str, Any] = {section: cfg[section]}
        if section == "evaluation":
            alone["data"] = {"val": val}
        problems.run(lambda: build_hooks(alone, schedule=None, runner_by_epoch=by_epoch,
                                         validate=validate))
    custom = cfg.get("custom_hooks")
    if isinstance(custom, (list, tuple)):
        for i, spec in enumerate(custom):
            if isinstance(spec, Mapping):
                problems.add(*check_typed(spec, f"custom_hooks.{i}", "hook",
                                          skip_args=("priority",)))
    log = cfg.get("log_config")
    if isinstance(log, Mapping) and isinstance(log.get("hooks"), (list, tuple)):
        for i, spec in enumerate(log["hooks"]):
            if isinstance(spec, Mapping):
                problems.add(*check_typed(spec, f"log_config.hooks.{i}", "logger"))
    if val is not None and isinstance(cfg.get("evaluation"), Mapping):
        _check_evaluation(cfg["evaluation"], val, problems)


def _check_evaluation(ev: Mapping, val: Any, problems: _Problems) -> None:
    from ocr_ds.config.arguments import check_arguments
    from ocr_ds.engine.hooks.evaluation import HOOK_ONLY_KEYS, infer_rule

    # the metric arguments, bound to each validation dataset's evaluate()
    metric_args = {k: v for k, v in ev.items() if k not in HOOK_ONLY_KEYS}
    classes = [c for c in (dataset_class(m) for m, _ in dataset_members(val, "data.val"))
               if c is not None]
    for cls in classes:
        if hasattr(cls, "evaluate"):
            problems.add(*check_arguments(cls.evaluate, {"self": None, "results": [],
                                                         **metric_args}, "evaluation"))
    keys = problems.run(lambda: metric_keys(val, ev.get("metric"), "evaluation.metric"))
    save_best, rule = ev.get("save_best"), ev.get("rule")
    if not isinstance(save_best, str) or not keys:
        return
    group = next((g for g in (getattr(c, "metric_groups", ()) for c in classes) if g), ())
    if group and (save_best == "auto" or save_best.split(".")[-1] not in group):
        first = "the first metric, which" if save_best == "auto" else repr(save_best)
        problems.add(f"evaluation.save_best: {first} is a group of metrics ({', '.join(group)}) "
                     f"per category; name one number, e.g. '{keys[0]}.{group[-1]}' "
                     f"(got {save_best!r})")
        return
    if save_best != "auto" and save_best not in keys and save_best.split(".")[0] not in keys:
        problems.add(f"evaluation.save_best: expected 'auto' or one of the metrics "
                     f"{', '.join(keys)} (got {save_best!r})")
        return
    if rule is None:
        from ocr_ds.engine.hooks.evaluation import inference_keys

        problems.run(lambda: infer_rule(keys[0] if save_best == "auto" else save_best,
                                        *inference_keys(ev)))


def _check_process(cfg: Mapping, problems: _Problems) -> None:
    from ocr_ds.engine.data import process_settings
    from ocr_ds.engine.launch import config_port

    problems.run(lambda: process_settings(cfg))
    dist_params = cfg.get("dist_params")
    if dist_params is not None and not isinstance(dist_params, Mapping):
        problems.add(f"dist_params: expected a dict (got {dist_params!r})")
    else:
        problems.run(lambda: config_port(dist_params))

"""The config -> DeepSpeed JSON translator: a pure function, tested with golden dicts.

``translate(cfg, world_size=..., accelerator=...)`` turns an MMOCR 0.x config into the dict
given to ``deepspeed.initialize(config=...)``, plus notes for stderr saying what it chose and
what overrode what. It never imports deepspeed and never touches a process group; DeepSpeed's
own parser is the judge of what it emits (tests/translate feeds every golden dict to it).

Order of sources, later wins: the translation of the config's ``optimizer``,
``optimizer_config``, ``data``, ``fp16``/``bf16``/``autocast`` keys; then the config's own
``deepspeed = dict(...)`` section; then the DeepSpeed JSON file given on the command line. Where
a DeepSpeed value contradicts a translated one, the explicit DeepSpeed value wins and a note says
so (as Hugging Face's Trainer reports DeepSpeed/argument mismatches). ``"auto"`` in a DeepSpeed
section means "the translated value".

ZeRO's buffer sizes the user leaves unset (or sets to ``"auto"``) are derived from the model when
the caller passes its :class:`~ocr_ds.translate.zero_buffers.ModelFacts` (the engine builder
measures the model; see :mod:`ocr_ds.translate.zero_buffers`).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from ocr_ds.errors import UserError, bad_value
from ocr_ds.translate.optimizer import (
    finalize_optimizer, translate_optimizer, translate_optimizer_hook)
from ocr_ds.translate.precision import (
    check_precision_combination, cpu_fp16_error, translate_precision)
from ocr_ds.translate.speed import Speed, apply_fused_optimizer, translate_speed
from ocr_ds.translate.values import mapping, positive_int, to_json
from ocr_ds.translate.zero_buffers import SIZE_KEYS, ModelFacts, fill_zero_buffers

ACCELERATORS = ("cpu", "cuda")
#: steps_per_print unless the user sets it: DeepSpeed's own progress lines would duplicate ours.
STEPS_PER_PRINT_SILENT = 2**31 - 1
BATCH_KEYS = ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps")
CONFIG_SECTION = "deepspeed"
_MISSING = object()


@dataclass
class Translation:
    """The DeepSpeed config and the human-readable notes that explain it."""

    ds_config: dict               #: JSON-serialisable, for ``deepspeed.initialize(config=...)``
    notes: list[str] = field(default_factory=list)  #: lines for stderr: choices, overrides
    speed: Speed = field(default_factory=Speed)     #: compile / channels_last (not JSON keys)


def translate(cfg: Mapping, *, world_size: int, accelerator: str = "cpu",
              ds_overrides: Mapping | None = None,
              ds_overrides_name: str = "ds_config",
              model_facts: ModelFacts | None = None) -> Translation:
    """Translate an MMOCR config (nested dicts) into a DeepSpeed config.

    Args:
        cfg: the loaded config; reads ``optimizer``, ``optimizer_config``, ``data``, ``fp16``,
            ``bf16``, ``autocast``, the speed keys (``compile``, ``channels_last``,
            ``fused_optimizer``: :mod:`ocr_ds.translate.speed`) and ``deepspeed``.
        world_size: number of data-parallel ranks (``train_batch_size`` counts them all).
        accelerator: ``'cpu'`` or ``'cuda'``, as the caller detected it.
        ds_overrides: the user's DeepSpeed JSON (CLI); wins over the config's ``deepspeed``
            section. Defaults to None.
        ds_overrides_name: how notes and errors name ``ds_overrides`` (e.g. the file path).
            Defaults to ``"ds_config"``.
        model_facts: the model's parameter sizes; at ZeRO stage >= 1 the buffer sizes the user
            did not set are derived from them. None leaves them to DeepSpeed. Defaults to None.

    Raises:
        UserError: anything in ``cfg`` or ``ds_overrides`` that DeepSpeed cannot express.
    """
    if isinstance(world_size, bool) or not isinstance(world_size, int) or world_size < 1:
        raise ValueError(f"world_size must be a positive int (got {world_size!r})")
    if accelerator not in ACCELERATORS:
        raise ValueError(f"accelerator must be one of {ACCELERATORS} (got {accelerator!r})")
    notes: list[str] = []

    hook = translate_optimizer_hook(cfg.get("optimizer_config"), notes)
    micro, micro_key = _micro_batch(cfg.get("data"))
    accum = hook.gradient_accumulation_steps
    ds: dict[str, Any] = {
        "train_batch_size": micro * accum * world_size,
        "train_micro_batch_size_per_gpu": micro,
        "gradient_accumulation_steps": accum,
        "gradient_clipping": hook.gradient_clipping,
        "steps_per_print": STEPS_PER_PRINT_SILENT,
        "wall_clock_breakdown": False,
    }
    # where each translated value came from, for the override notes
    origin = {"train_batch_size": f"{micro_key} x optimizer_config.cumulative_iters x world_size",
              "train_micro_batch_size_per_gpu": micro_key,
              "gradient_accumulation_steps": "optimizer_config.cumulative_iters",
              "gradient_clipping": "optimizer_config.grad_clip.max_norm",
              "optimizer": "optimizer", "fp16": "fp16", "bf16": "bf16",
              "torch_autocast": "autocast"}

    sources = _user_sources(cfg.get(CONFIG_SECTION), ds_overrides, ds_overrides_name)
    if cfg.get("optimizer") is not None or not any("optimizer" in s for _, s in sources):
        ds["optimizer"] = translate_optimizer(cfg.get("optimizer"), notes)
    precision = translate_precision(cfg, hook, notes)
    ds.update(precision.sections)

    translated = copy.deepcopy(ds)
    user_set: dict[str, str] = {}   # dotted path -> name of the source that set it
    for name, section in sources:
        _merge(ds, section, "", name, translated, origin, user_set, notes)

    _reconcile_batch(ds, translated, world_size, user_set, micro_key, notes)
    _check_zero(ds, user_set)
    if "zero_optimization" in ds:
        zero = ds["zero_optimization"]
        given = [k for k in zero if k in SIZE_KEYS]
        fill_zero_buffers(zero, model_facts, given,
                          {k: user_set.get(f"zero_optimization.{k}", CONFIG_SECTION) for k in given},
                          notes)
    _check_precision(ds, precision, hook.hook_type, accelerator, user_set)
    fp16 = ds.get("fp16")
    fp16_on = isinstance(fp16, Mapping) and fp16.get("enabled")
    finalize_optimizer(ds, accelerator=accelerator, key=_key_namer(user_set),
                       fp16_dynamic=(fp16.get("loss_scale", 0) == 0) if fp16_on else None,
                       notes=notes)
    apply_fused_optimizer(cfg, ds, notes)
    speed = translate_speed(cfg, ds, notes)
    ds = to_json(ds, "deepspeed")
    json.dumps(ds)  # the contract: a plain JSON document
    return Translation(ds_config=ds, notes=notes, speed=speed)


def _key_namer(user_set: Mapping[str, str]) -> Callable[[str], str]:
    """For errors: the key the user wrote for a DeepSpeed path (``deepspeed.optimizer.type``
    when a DeepSpeed section set it, else the config key, e.g. ``optimizer.lr``)."""
    def key(path: str) -> str:
        if path in user_set:
            return f"{user_set[path]}.{path}"
        return path if path.count(".") < 2 else f"optimizer.{path.rpartition('.')[2]}"
    return key


def _micro_batch(data: Any) -> tuple[int, str]:
    """``data.train_dataloader.samples_per_gpu`` over ``data.samples_per_gpu`` (mmcv's rule)."""
    if data is None:
        raise UserError("data.samples_per_gpu: missing; expected a positive integer")
    data = mapping(data, "data")
    loader = data.get("train_dataloader") or {}
    loader = mapping(loader, "data.train_dataloader")
    if "samples_per_gpu" in loader:
        return positive_int(loader["samples_per_gpu"], "data.train_dataloader.samples_per_gpu"), \
            "data.train_dataloader.samples_per_gpu"
    if "samples_per_gpu" not in data:
        raise UserError("data.samples_per_gpu: missing; expected a positive integer")
    return positive_int(data["samples_per_gpu"], "data.samples_per_gpu"), "data.samples_per_gpu"


def _user_sources(section: Any, overrides: Any, overrides_name: str) -> list[tuple[str, Mapping]]:
    """The DeepSpeed sections to merge, in order, each checked for what we refuse outright."""
    sources = []
    for name, value in ((CONFIG_SECTION, section), (overrides_name, overrides)):
        if value is None:
            continue
        value = mapping(value, name, "a dict of DeepSpeed config keys")
        if "scheduler" in value:
            # Decision: refuse, not drop. The lr hook writes every param group's lr from
            # lr_config each iteration; a DeepSpeed scheduler stepping the same lr would
            # silently fight it, and dropping the user's explicit section would be silent too.
            raise UserError(f"{name}.scheduler: not supported: ocr_ds drives the learning rate "
                            "itself from lr_config (every iteration), and a DeepSpeed scheduler "
                            "would fight it; remove 'scheduler' and express the schedule in "
                            "lr_config")
        sources.append((name, value))
    return sources


def _lookup(tree: Mapping, path: str) -> Any:
    node: Any = tree
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _merge(dst: dict, src: Mapping, prefix: str, source: str, translated: Mapping,
           origin: Mapping[str, str], user_set: dict[str, str], notes: list[str]) -> None:
    """Deep-merge ``src`` into ``dst`` in place, noting every translated value it changes."""
    for key, value in src.items():
        path = f"{prefix}{key}"
        if value == "auto" and prefix == "zero_optimization." and key in SIZE_KEYS:
            dst.pop(key, None)         # unset: derived from the model (or DeepSpeed's default)
            user_set.pop(path, None)
            continue
        if value == "auto":
            dst[key] = _auto_value(translated, path, source)
            user_set.pop(path, None)   # back to the translated value
            continue
        old = dst.get(key, _MISSING)
        if path == "optimizer" and isinstance(value, Mapping) and isinstance(old, Mapping) \
                and "type" in value and _same_optimizer(value["type"], old.get("type")) is False:
            notes.append(f"optimizer.type: {source} sets {value['type']!r}, "
                         f"{_describe(old.get('type'), 'optimizer.type', user_set, origin)}; "
                         f"using {source}'s optimizer entirely, params included (the explicit "
                         "DeepSpeed value wins)")
            old = dst[key] = {}
        if isinstance(value, Mapping):
            if not isinstance(old, Mapping):
                old = dst[key] = {}
            user_set[path] = source
            _merge(old, value, f"{path}.", source, translated, origin, user_set, notes)
            continue
        if old is not _MISSING and old != value and path not in ("steps_per_print",
                                                                  "wall_clock_breakdown"):
            was = _describe(old, path, user_set, origin)
            notes.append(f"{path}: {source} sets {value!r}, {was}; using {value!r} (the "
                         "explicit DeepSpeed value wins)")
        dst[key] = copy.deepcopy(value)
        user_set[path] = source


def _auto_value(translated: Mapping, path: str, source: str) -> Any:
    """What ``"auto"`` at ``path`` stands for: the translated value (precision off if none)."""
    taken = _lookup(translated, path)
    if taken is not _MISSING:
        return copy.deepcopy(taken)
    if path in ("fp16", "bf16", "torch_autocast"):
        return {"enabled": False}
    if path in ("fp16.enabled", "bf16.enabled", "torch_autocast.enabled"):
        return False
    raise UserError(f"{source}.{path}: 'auto', but the config gives no value for it; set a value")


def _describe(old: Any, path: str, user_set: Mapping[str, str], origin: Mapping[str, str]) -> str:
    """Who gave the value being replaced: an earlier DeepSpeed section, or which config key."""
    if path in user_set:
        return f"{user_set[path]} set {old!r}"
    top, _, rest = path.partition(".")
    if path in origin:
        where = origin[path]
    elif top == "optimizer":
        # mmcv spells DeepSpeed's optimizer.params.lr as optimizer.lr
        where = f"optimizer.{rest.rpartition('.')[2]}"
    else:
        where = origin.get(top, "ocr_ds's default")
    return f"the config gives {old!r} (from {where})"


def _same_optimizer(a: Any, b: Any) -> bool | None:
    if not isinstance(a, str) or not isinstance(b, str):
        return None
    return a == b or a.lower() == b.lower()


def _reconcile_batch(ds: dict, translated: Mapping, world_size: int, user_set: Mapping[str, str],
                     micro_key: str, notes: list[str]) -> None:
    """Keep ``train_batch = micro * accum * world_size`` true after the user's values."""
    given = {k: user_set[k] for k in BATCH_KEYS if k in user_set}
    for key, source in given.items():
        positive_int(ds[key], f"{source}.{key}")
    if not given:
        return
    batch, micro, accum = (ds[k] for k in BATCH_KEYS)
    if "train_batch_size" not in given:
        ds["train_batch_size"] = micro * accum * world_size
    elif "train_micro_batch_size_per_gpu" in given and "gradient_accumulation_steps" in given:
        if batch != micro * accum * world_size:
            raise UserError(
                f"{given['train_batch_size']}.train_batch_size: {batch} != "
                f"train_micro_batch_size_per_gpu x gradient_accumulation_steps x world_size = "
                f"{micro} x {accum} x {world_size} = {micro * accum * world_size}")
    elif "gradient_accumulation_steps" in given:   # derive the micro batch
        if batch % (accum * world_size):
            raise UserError(
                f"{given['train_batch_size']}.train_batch_size: {batch} is not a multiple of "
                f"gradient_accumulation_steps x world_size = {accum} x {world_size}")
        ds["train_micro_batch_size_per_gpu"] = batch // (accum * world_size)
    else:                                          # keep the micro batch, derive accumulation
        if batch % (micro * world_size):
            raise UserError(
                f"{given['train_batch_size']}.train_batch_size: {batch} is not a multiple of "
                f"train_micro_batch_size_per_gpu x world_size = {micro} x {world_size}")
        ds["gradient_accumulation_steps"] = batch // (micro * world_size)
    for key in BATCH_KEYS:
        if key not in given and ds[key] != translated[key]:
            notes.append(f"{key}: {ds[key]} (was {translated[key]}), so that train_batch_size "
                         f"{ds['train_batch_size']} = {ds['train_micro_batch_size_per_gpu']} x "
                         f"{ds['gradient_accumulation_steps']} x world_size {world_size}")
    if ds["train_micro_batch_size_per_gpu"] != translated["train_micro_batch_size_per_gpu"]:
        notes.append(f"train_micro_batch_size_per_gpu: the training loader takes "
                     f"{ds['train_micro_batch_size_per_gpu']} samples per rank, not {micro_key}="
                     f"{translated['train_micro_batch_size_per_gpu']}")


def _check_zero(ds: dict, user_set: Mapping[str, str]) -> None:
    if "zero_optimization" not in ds:
        return
    source = user_set.get("zero_optimization", CONFIG_SECTION)
    zero = ds["zero_optimization"]
    if not isinstance(zero, Mapping):
        raise bad_value(f"{source}.zero_optimization", zero, "a dict such as {'stage': 2}")
    stage = zero.get("stage", 0)
    if isinstance(stage, bool) or stage not in (0, 1, 2, 3):
        stage_source = user_set.get("zero_optimization.stage", source)
        raise bad_value(f"{stage_source}.zero_optimization.stage", stage, "0, 1, 2 or 3")


def _check_precision(ds: dict, precision: Any, hook_type: str, accelerator: str,
                     user_set: Mapping[str, str]) -> None:
    keys = {name: (f"{user_set[name + '.enabled']}.{name}.enabled" if f"{name}.enabled" in user_set
                   else {"fp16": precision.fp16_key or "fp16", "torch_autocast": "autocast"}
                   .get(name, name)) for name in ("fp16", "bf16", "torch_autocast")}
    check_precision_combination(ds, keys)
    fp16 = ds.get("fp16")
    if accelerator == "cpu" and isinstance(fp16, Mapping) and fp16.get("enabled"):
        raise cpu_fp16_error(keys["fp16"], hook_type)


def load_ds_json(path: str) -> dict:
    """Read the user's DeepSpeed JSON file (a CLI flag); every problem is a one-line UserError."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise UserError(f"{path}: DeepSpeed JSON file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory; expected a DeepSpeed JSON file") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the DeepSpeed JSON file ({exc.strerror})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                        f"{exc.msg}") from None
    except _DuplicateKey as exc:
        # DeepSpeed refuses duplicate keys too; json would silently keep the last one
        raise UserError(f"{path}: duplicate key {exc.args[0]!r}; expected each key once") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object {{...}} at the top level "
                        f"(got {type(data).__name__})")
    return data


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out

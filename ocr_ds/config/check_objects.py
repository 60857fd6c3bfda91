"""The parts of the config check that look at objects a config names (see :mod:`.check`).

- :func:`check_typed`: a ``dict(type=..., ...)`` and everything nested in it, statically: every
  ``type`` name resolves in its table of :mod:`ocr_ds.registry`, every argument binds to the
  class's signature (:mod:`.arguments`). Nested dicts are followed through the argument names
  MMOCR uses for them (``pipeline``/``transforms`` -> pipeline steps, ``datasets`` -> datasets,
  ``loader``, ``parser``) and, inside models, every other typed argument is a component, except
  mmcv's layer settings (``*_cfg``, ``*_cfgs``, ``dcn``, ``plugins``), which the component
  itself reads: of those only the ``type`` names are checked, against the table the component
  builds them from (:data:`LAYER_TABLES`; ``init_cfg`` against the initialisers). A class's
  ``own_typed_args`` are left to the class (``Albu``'s ``transforms`` are albumentations'
  names, not pipeline steps). Nothing is built, so no data file is opened.
- :func:`metric_keys`: the result keys an evaluation of a dataset config will produce, from the
  dataset classes' own ``metric_keys`` (a concatenation prefixes them ``0_``.., and
  ``UniformConcatDataset`` adds ``mean_`` ones as its ``show_mean_scores`` says).
- :func:`check_optimizer_values`: the translated optimizer's arguments bound to the torch.optim
  class (types from its annotations), then the optimizer built once on a dummy parameter, so a
  value torch refuses (a negative lr, betas of strings) is found now.
- :func:`check_momentum_optimizer`: with a ``momentum_config``, the optimizer has a momentum or
  betas for it to set.
"""
from __future__ import annotations

import inspect
from typing import Any, Mapping, Sequence

from ocr_ds.config.arguments import check_arguments
from ocr_ds.errors import UserError, UserErrors, unknown_name

#: argument name -> registry table its typed dicts (or lists of them) come from
NESTED = {"pipeline": "pipeline", "transforms": "pipeline", "datasets": "dataset",
          "loader": "loader", "parser": "parser"}
#: mmcv's layer settings: typed dicts the component interprets itself (norm, conv, init, ...)
_LAYER_ARGS = ("dcn", "plugins")
CONCAT = ("ConcatDataset", "UniformConcatDataset")
#: layer setting -> registry table its ``type`` names come from (the component builds it)
LAYER_TABLES = {"conv_cfg": "conv layer", "dcn": "conv layer", "norm_cfg": "norm layer",
                "act_cfg": "activation", "attn_cfgs": "transformer part",
                "ffn_cfgs": "transformer part", "upsample_cfg": "upsample layer"}


def _layer_setting(name: str) -> bool:
    return name.endswith(("_cfg", "_cfgs")) or name in _LAYER_ARGS


def _messages(exc: UserError) -> list[str]:
    return list(exc.messages) if isinstance(exc, UserErrors) else [str(exc)]


def check_typed(spec: Any, key: str, kind: str, *, top: bool = True,
                skip_args: Sequence[str] = ()) -> list[str]:
    """Problems of the typed dict ``spec`` at ``key`` (``kind``: a :data:`registry.TABLES`
    name) and of the typed dicts nested in it. A nested dict's missing arguments are not
    problems: its parent may pass them (a decoder's ``num_classes``, a loader's ``ann_file``).
    ``skip_args`` are keys the caller consumes itself (a hook's ``priority``)."""
    from ocr_ds import registry

    if not isinstance(spec, Mapping) or "type" not in spec:
        return [f"{key}: expected a dict with a 'type' key (got {spec!r})"]
    try:
        cls = registry.resolve(registry.TABLES[kind], spec["type"], f"{key}.type")
    except UserError as exc:
        return [str(exc)]
    args = {k: v for k, v in spec.items() if k != "type" and k not in skip_args}
    problems = [p for p in check_arguments(cls, args, key)
                if top or ": required by " not in p]
    component = kind in ("model", "component")
    own = getattr(cls, "own_typed_args", ())  # typed dicts the class reads itself (Albu's)
    for name, value in args.items():
        sub = f"{key}.{name}"
        if name in own:
            continue
        nested = NESTED.get(name)
        if component and _layer_setting(name):
            if not any(p.startswith(f"{sub}: ") for p in problems):  # not refused already
                problems += _layer_type_names(name, value, sub)
            continue
        if nested is None and component:
            nested = "component"
        if nested is None:
            continue
        if isinstance(value, Mapping) and "type" in value:
            problems += check_typed(value, sub, nested, top=False)
        elif isinstance(value, (list, tuple)) and name in NESTED:
            for i, item in enumerate(value):
                if isinstance(item, Mapping) or nested != "pipeline":
                    problems += check_typed(item, f"{sub}.{i}", nested, top=nested == "pipeline")
    return problems


def _items(value: Any, key: str) -> list[tuple[Any, str]]:
    """``(dict, key)`` of a setting that is a dict or a list of dicts."""
    if isinstance(value, Mapping):
        return [(value, key)]
    if isinstance(value, (list, tuple)):
        return [(v, f"{key}.{i}") for i, v in enumerate(value) if isinstance(v, Mapping)]
    return []


def _layer_type_names(name: str, value: Any, key: str) -> list[str]:
    """Unknown ``type`` names in the layer setting ``name`` (its other keys are the
    component's to read, as in mmcv), found without building anything."""
    from ocr_ds import registry
    from ocr_ds.models.common.init import _INITS

    found: list[str] = []

    def known(names: Any, spec: Mapping, where: str) -> None:
        kind = spec.get("type", None)
        if "type" in spec and (not isinstance(kind, str) or kind not in names):
            found.append(str(unknown_name(f"{where}.type", kind, names)))

    if name in LAYER_TABLES:
        for spec, where in _items(value, key):
            known(registry.TABLES[LAYER_TABLES[name]], spec, where)
    elif name == "plugins":
        for spec, where in _items(value, key):
            if isinstance(spec.get("cfg"), Mapping):
                known(registry.PLUGIN_LAYERS, spec["cfg"], f"{where}.cfg")
    elif name.endswith("init_cfg"):  # init_cfg, and block_init_cfg of ResNet-like backbones
        for spec, where in _items(value, key):
            known([*_INITS, "Pretrained"], spec, where)
            for sub, sub_key in _items(spec.get("override"), f"{where}.override"):
                known(list(_INITS), sub, sub_key)
    return found


def dataset_members(spec: Any, key: str) -> list[tuple[Any, str]]:
    """``(member spec, key)`` of a dataset config: a list and a ConcatDataset are unrolled."""
    if isinstance(spec, (list, tuple)):
        return [m for i, s in enumerate(spec) for m in dataset_members(s, f"{key}.{i}")]
    if isinstance(spec, Mapping) and spec.get("type") in CONCAT and \
            isinstance(spec.get("datasets"), (list, tuple)):
        return [m for i, s in enumerate(spec["datasets"])
                for m in dataset_members(s, f"{key}.datasets.{i}")]
    return [(spec, key)]


def check_dataset(spec: Any, key: str) -> list[str]:
    """Static problems of a dataset config (a dict, a list of dicts, a ConcatDataset)."""
    if isinstance(spec, (list, tuple)):
        if not spec:
            return [f"{key}: expected a dataset dict or a non-empty list of them (got [])"]
        return [p for i, s in enumerate(spec) for p in check_dataset(s, f"{key}.{i}")]
    return check_typed(spec, key, "dataset")


def dataset_class(spec: Any) -> Any:
    """The class a dataset member config names, or None (not a dict, an unknown name)."""
    from ocr_ds import registry

    try:
        return registry.resolve(registry.DATASETS, spec.get("type"), "type")
    except (UserError, AttributeError):
        return None


def metric_keys(spec: Any, metric: Any, key: str) -> list[str] | None:
    """The keys ``evaluate(metric=metric)`` of dataset config ``spec`` returns, in order; None
    when a member's class cannot tell. Unknown metric names raise :class:`UserError` at ``key``.
    ``metric=None``: each dataset's default metric."""
    members = dataset_members(spec, "")
    concat = isinstance(spec, (list, tuple)) or (isinstance(spec, Mapping)
                                                 and spec.get("type") in CONCAT)
    per_member = []
    for member, _ in members:
        cls = dataset_class(member) if isinstance(member, Mapping) else None
        if cls is None or not hasattr(cls, "metric_keys"):
            return None
        wanted = metric
        if wanted is None:
            default = inspect.signature(cls.evaluate).parameters.get("metric")
            wanted = default.default if default is not None else None
        per_member.append(cls.metric_keys(wanted, key))
    if not concat:
        return per_member[0]
    keys = [f"{i}_{k}" for i, ks in enumerate(per_member) for k in ks]
    # UniformConcatDataset's show_mean_scores ('auto': with 2+ members); mmdet's ConcatDataset
    # (also a plain list) has no means
    show = spec.get("show_mean_scores", "auto") if isinstance(spec, Mapping) and \
        spec.get("type") == "UniformConcatDataset" else False
    if show is True or (show == "auto" and len(per_member) > 1):
        keys += [f"mean_{k}" for k in dict.fromkeys(k for ks in per_member for k in ks)]
    return keys


# DeepSpeed's own optimizer names that run torch.optim classes on every accelerator we check
_NATIVE_TORCH = {"adam": "Adam", "adamw": "AdamW", "adagrad": "Adagrad"}
# DeepSpeed-only parameters of those (torch's classes do not take them)
_DS_ONLY = ("adam_w_mode", "torch_adam", "bias_correction", "set_grad_none", "fused")
# how torch's messages name a parameter, where not by its own name
_TORCH_WORDS = {"learning rate": "lr", "beta": "betas", "epsilon": "eps"}


def check_optimizer_values(optimizer: Mapping[str, Any] | None) -> list[str]:
    """Bind the translated ``{'type', 'params'}`` optimizer's arguments and build it on a dummy
    parameter: problems as ``optimizer.<key>: ...`` lines."""
    import torch

    if not isinstance(optimizer, Mapping):
        return []
    name, params = optimizer.get("type"), dict(optimizer.get("params") or {})
    if name in _NATIVE_TORCH:
        name = "AdamW" if name == "adam" and params.get("adam_w_mode", True) else \
            _NATIVE_TORCH[name]
        params = {k: v for k, v in params.items() if k not in _DS_ONLY}
    cls = getattr(torch.optim, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        return []  # DeepSpeed's own kernels (lamb, lion, ...): DeepSpeed checks those
    weight = torch.nn.Parameter(torch.ones(2))
    problems = check_arguments(cls, {"params": [weight], **params}, "optimizer")
    # the values that passed are still tried: a wrong type must not hide a wrong value
    params = {k: v for k, v in params.items() if not any(p.startswith(f"optimizer.{k}:")
                                                         for p in problems)}
    try:
        # constructing is where torch checks values (a step would cost importing torch._dynamo)
        cls([weight], **params)
    except (TypeError, ValueError, RuntimeError) as exc:
        text = " ".join(str(exc).split())[:200]
        lower = text.lower()
        named = [k for k in params if k.lower() in lower] or \
            [v for word, v in _TORCH_WORDS.items() if word in lower and v in params]
        where = f"optimizer.{named[0]}" if named else "optimizer"
        got = f" (got {params[named[0]]!r})" if named else ""
        problems.append(f"{where}: torch.optim.{cls.__name__} refuses it: {text}{got}")
    return problems


#: DeepSpeed's own optimizers -> the param-group key a momentum schedule sets (None: neither)
_DS_MOMENTUM_KEY = {"adam": "betas", "adamw": "betas", "lamb": "betas", "lion": "betas",
                    "muadam": "betas", "muadamw": "betas", "musgd": "momentum",
                    "muon": "momentum", "adagrad": None}


def _momentum_key(name: Any) -> tuple[str | None, Any]:
    """``(key, default betas)`` of the optimizer ``name``: the param-group key a momentum
    schedule sets (``'momentum'``, ``'betas'``, ``'neither'``, or None for a name we do not
    know) and, for a torch.optim class, its default ``betas`` (else None)."""
    import torch

    if name in _DS_MOMENTUM_KEY:
        return _DS_MOMENTUM_KEY[name] or "neither", None
    cls = getattr(torch.optim, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        return None, None
    params = inspect.signature(cls).parameters
    if "momentum" in params:
        return "momentum", None
    if "betas" in params:
        return "betas", params["betas"].default
    return "neither", None


def check_momentum_optimizer(optimizer: Mapping[str, Any] | None) -> list[str]:
    """``momentum_config`` needs an optimizer whose param groups have ``momentum`` (SGD,
    RMSprop) or ``betas`` (Adam, ...): on any other mmcv's momentum hooks fail (KeyError
    'betas' at the start of the run; OneCycle's ValueError). Problems as one line each."""
    if not isinstance(optimizer, Mapping):
        return []
    name = optimizer.get("type")
    key, _ = _momentum_key(name)
    if key != "neither":  # (None, a name we do not know: the hook checks the param groups)
        return []
    return [f"momentum_config: optimizer {name!r} has neither momentum nor betas for a momentum "
            f"schedule to set (mmcv's momentum hooks fail on it); remove momentum_config or use "
            f"an optimizer with momentum (SGD, RMSprop) or betas (Adam, AdamW, ...)"]


def scheduled_beta_problems(schedule: Any, optimizer: Mapping[str, Any] | None, max_iters: int,
                            iters_per_epoch: int) -> list[str]:
    """A momentum schedule must keep an Adam-like optimizer's ``betas[0]`` below 1: its bias
    correction divides by ``1 - betas[0]**step`` (torch's Adam raises ZeroDivisionError, seen
    here under DeepSpeed; a GPU's FusedAdam divides by that zero too), and a warmup divides the
    momentum by ``warmup_ratio`` (0.9 by default: Adam's 0.9 becomes 1.0 at iteration 0), as
    mmcv does. One line, or none."""
    if schedule is None or not isinstance(optimizer, Mapping):
        return []
    name, params = optimizer.get("type"), dict(optimizer.get("params") or {})
    key, default_betas = _momentum_key(name)
    if key != "betas" or name == "lion":  # Lion has no bias correction
        return []
    if default_betas is not None:
        params.setdefault("betas", default_betas)
    base = float(params.get("betas", (0.9, 0.999))[0])
    peak, at = schedule.peak(schedule.initial_momentum(base), max_iters, iters_per_epoch)
    if peak < 1:
        return []
    hint = (f"; the warmup divides it by warmup_ratio ({schedule.warmup_ratio}) at first"
            if schedule.warmup and at < schedule.warmup_iters else "")
    source = "" if schedule.one_cycle else f" (from {base!r})"
    return [f"momentum_config: the schedule sets betas[0] of optimizer {name!r} to {peak!r} at "
            f"iteration {at}{source}{hint}; expected below 1 (the optimizer's bias correction "
            f"divides by 1 - betas[0]**step)"]

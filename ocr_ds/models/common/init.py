"""The initialisers an ``init_cfg`` names, with mmcv 1.x's semantics, and ``initialize``.

``init_cfg = dict(type='Kaiming'|'Xavier'|'Normal'|'TruncNormal'|'Uniform'|'Constant'|
'Caffe2Xavier'|'Pretrained', layer=NAME|[NAMES], override=dict(name=CHILD, ...)|[...],
bias=0, bias_prob=None, **args)`` or a list of such dicts, applied in order.

* ``layer`` is matched against the class name of every module in the subtree *and the names
  of its direct base classes* (so ``'_BatchNorm'`` matches ``BatchNorm2d``, ``'_ConvNd'``
  matches ``Conv2d``); a name that matches nothing initialises nothing, silently, as in mmcv.
  Without ``layer`` only ``override`` does anything.
* ``override`` initialises the named child as a whole (every module in it that has a
  ``weight``/``bias``), with the override's own arguments, or the parent's when it gives only
  ``name``.
* ``bias_prob=p`` sets the bias to ``-log((1 - p) / p)``.
* ``Pretrained`` loads a checkpoint (``checkpoint=PATH``; an http(s) URL or ``torchvision://NAME``
  -- the URL mmcv's table gives NAME -- from torch hub's cache, downloaded there when missing,
  as mmcv; ``prefix='backbone.'`` takes that part of a whole model's checkpoint)
  with :func:`ocr_ds.checkpoint_io.safe_load` (weights only).
"""
from __future__ import annotations

import copy
import math
import os
import warnings
from typing import Any, Callable, Mapping

import torch
import torch.nn as nn

from ocr_ds.checkpoint_io import safe_load
from ocr_ds.errors import UserError
from ocr_ds.models.common.torchvision_urls import torchvision_url


def constant_init(module: nn.Module, val: float, bias: float = 0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.constant_(module.weight, val)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def xavier_init(module: nn.Module, gain: float = 1, bias: float = 0,
                distribution: str = "normal") -> None:
    if getattr(module, "weight", None) is not None:
        if distribution == "uniform":
            nn.init.xavier_uniform_(module.weight, gain=gain)
        else:
            nn.init.xavier_normal_(module.weight, gain=gain)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def normal_init(module: nn.Module, mean: float = 0, std: float = 1, bias: float = 0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.normal_(module.weight, mean, std)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def trunc_normal_init(module: nn.Module, mean: float = 0, std: float = 1, a: float = -2,
                      b: float = 2, bias: float = 0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.trunc_normal_(module.weight, mean, std, a, b)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def uniform_init(module: nn.Module, a: float = 0, b: float = 1, bias: float = 0) -> None:
    if getattr(module, "weight", None) is not None:
        nn.init.uniform_(module.weight, a, b)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def kaiming_init(module: nn.Module, a: float = 0, mode: str = "fan_out",
                 nonlinearity: str = "relu", bias: float = 0,
                 distribution: str = "normal") -> None:
    if getattr(module, "weight", None) is not None:
        if distribution == "uniform":
            nn.init.kaiming_uniform_(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
        else:
            nn.init.kaiming_normal_(module.weight, a=a, mode=mode, nonlinearity=nonlinearity)
    if getattr(module, "bias", None) is not None:
        nn.init.constant_(module.bias, bias)


def caffe2_xavier_init(module: nn.Module, bias: float = 0) -> None:
    kaiming_init(module, a=1, mode="fan_in", nonlinearity="leaky_relu", bias=bias,
                 distribution="uniform")


def bias_init_with_prob(prior_prob: float) -> float:
    """The bias whose sigmoid is ``prior_prob``."""
    return float(-math.log((1 - prior_prob) / prior_prob))


# type -> (init function, its arguments with mmcv's defaults, not counting ``bias``)
_INITS: dict[str, tuple[Callable[..., None], dict[str, Any]]] = {
    "Constant": (constant_init, {"val": None}),
    "Xavier": (xavier_init, {"gain": 1, "distribution": "normal"}),
    "Normal": (normal_init, {"mean": 0, "std": 1}),
    "TruncNormal": (trunc_normal_init, {"mean": 0, "std": 1, "a": -2, "b": 2}),
    "Uniform": (uniform_init, {"a": 0, "b": 1}),
    "Kaiming": (kaiming_init, {"a": 0, "mode": "fan_out", "nonlinearity": "relu",
                               "distribution": "normal"}),
    "Caffe2Xavier": (caffe2_xavier_init, {}),
}


def _layer_names(module: nn.Module) -> set[str]:
    cls = type(module)
    return {cls.__name__, *(b.__name__ for b in cls.__bases__)}


def _apply(module: nn.Module, cfg: Mapping[str, Any], key: str, whole: bool) -> None:
    """One initialiser (not Pretrained) over ``module``'s subtree."""
    args = dict(cfg)
    kind = args.pop("type")
    func, defaults = _INITS[kind]
    layer = args.pop("layer", None)
    bias = args.pop("bias", 0)
    bias_prob = args.pop("bias_prob", None)
    if bias_prob is not None:
        if not isinstance(bias_prob, float):
            raise UserError(f"{key}.bias_prob: expected a float (got {bias_prob!r})")
        bias = bias_init_with_prob(bias_prob)
    if not isinstance(bias, (int, float)):
        raise UserError(f"{key}.bias: expected a number (got {bias!r})")
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise UserError(f"{key}: {kind} takes {', '.join(['layer', 'bias', 'bias_prob', 'override', *defaults])} "
                        f"(got {', '.join(unknown)})")
    if kind == "Constant" and "val" not in args:
        raise UserError(f"{key}.val: expected a number for Constant (got nothing)")
    kwargs = {**{k: v for k, v in defaults.items() if v is not None}, **args}
    if layer is None:
        layers: set[str] = set()
    elif isinstance(layer, str):
        layers = {layer}
    elif isinstance(layer, (list, tuple)) and all(isinstance(x, str) for x in layer):
        layers = set(layer)
    else:
        raise UserError(f"{key}.layer: expected a class name or a list of them (got {layer!r})")
    for m in module.modules():
        if whole or layers & _layer_names(m):
            func(m, bias=bias, **kwargs)


def initialize(module: nn.Module, init_cfg: Mapping | list, key: str = "init_cfg") -> None:
    """Apply ``init_cfg`` (a dict or a list of dicts) to ``module`` as mmcv's ``initialize``."""
    cfgs = [init_cfg] if isinstance(init_cfg, Mapping) else init_cfg
    if not isinstance(cfgs, (list, tuple)):
        raise UserError(f"{key}: expected a dict or a list of dicts (got {init_cfg!r})")
    for i, cfg in enumerate(cfgs):
        item_key = key if isinstance(init_cfg, Mapping) else f"{key}.{i}"
        if not isinstance(cfg, Mapping) or "type" not in cfg:
            raise UserError(f"{item_key}: expected a dict with a 'type' key (got {cfg!r})")
        cfg = copy.deepcopy(dict(cfg))
        if cfg["type"] == "Pretrained":
            load_pretrained(module, cfg, item_key)
            continue
        if cfg["type"] not in _INITS:
            raise UserError(f"{item_key}.type: unknown {cfg['type']!r}; expected one of: "
                            f"{', '.join(sorted([*_INITS, 'Pretrained']))}")
        override = cfg.pop("override", None)
        _apply(module, cfg, item_key, whole=False)
        if override is not None:
            cfg.pop("layer", None)
            _override(module, override, cfg, f"{item_key}.override")


def _override(module: nn.Module, override: Any, parent: dict, key: str) -> None:
    items = [override] if isinstance(override, Mapping) else override
    if not isinstance(items, (list, tuple)):
        raise UserError(f"{key}: expected a dict or a list of dicts (got {override!r})")
    for i, item in enumerate(items):
        item_key = key if isinstance(override, Mapping) else f"{key}.{i}"
        if not isinstance(item, Mapping) or "name" not in item:
            raise UserError(f"{item_key}.name: expected the name of a child module "
                            f"(got {item!r})")
        cfg = dict(item)
        name = cfg.pop("name")
        if not cfg:
            cfg = dict(parent)
        elif "type" not in cfg:
            raise UserError(f"{item_key}.type: expected an initialiser type (got {item!r})")
        elif cfg["type"] not in _INITS:
            raise UserError(f"{item_key}.type: unknown {cfg['type']!r}; expected one of: "
                            f"{', '.join(sorted(_INITS))}")
        if not hasattr(module, name):
            raise UserError(f"{item_key}.name: {type(module).__name__} has no child {name!r}")
        _apply(getattr(module, name), cfg, item_key, whole=True)


def cached_url(url: str, key: str) -> str:
    """The local copy of ``url`` in torch hub's cache (``$TORCH_HOME/hub/checkpoints/<file
    name>``), downloaded there first when missing, as mmcv's ``load_from_http``. With several
    ranks, the first rank of each node (``LOCAL_RANK`` 0) downloads what its node lacks while
    the others wait at one barrier every rank passes (whether or not its file was there), then
    they read that file; a failed download is one line on every rank of that node."""
    from urllib.parse import urlparse

    import torch.distributed as tdist

    cached = os.path.join(torch.hub.get_dir(), "checkpoints",
                          os.path.basename(urlparse(url).path))
    many = tdist.is_available() and tdist.is_initialized() and tdist.get_world_size() > 1
    first_on_node = not many or int(os.environ.get("LOCAL_RANK", tdist.get_rank())) == 0
    failure = None
    if first_on_node and not os.path.isfile(cached):
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            warnings.warn(f"{key}: downloading {url} to {cached}")
            torch.hub.download_url_to_file(url, cached, progress=False)
        except Exception as exc:  # noqa: BLE001 -- any failure: one line, after the barrier
            failure = f"{type(exc).__name__}: {exc}"
    if many:
        tdist.barrier()
    if not os.path.isfile(cached):
        why = failure or "the first rank of this node could not"
        raise UserError(f"{key}: cannot download {url} ({why}); expected the file in torch "
                        f"hub's cache: put it at {cached}, or give a local path")
    return cached


def resolve_checkpoint(path: str, key: str) -> str:
    """A local file for ``path``, as mmcv 1.7's checkpoint loader finds it: ``torchvision://NAME``
    (or ``modelzoo://NAME``) is the URL mmcv's table gives that name
    (:func:`~ocr_ds.models.common.torchvision_urls.torchvision_url`), and an http(s) URL is torch
    hub's cached copy, downloaded when missing (:func:`cached_url`)."""
    if path.startswith(("torchvision://", "modelzoo://")):
        if path.startswith("modelzoo://"):
            warnings.warn(f"{key}.checkpoint: the URL scheme 'modelzoo://' is deprecated, "
                          f"use 'torchvision://' instead")
        path = torchvision_url(path, key)
    if path.startswith(("http://", "https://")):
        return cached_url(path, f"{key}.checkpoint")
    if "://" in path:
        raise UserError(f"{key}.checkpoint: expected a local path, an http(s) URL or "
                        f"torchvision://NAME (got {path!r})")
    if not os.path.isfile(path):
        raise UserError(f"{key}.checkpoint: file not found (got {path!r})")
    return path


def load_pretrained(module: nn.Module, init_cfg: Mapping, key: str) -> None:
    """Load ``init_cfg['checkpoint']`` into ``module`` (strict=False, shapes checked).

    A whole model's checkpoint given to a backbone is narrowed to its ``backbone.`` part when
    no ``prefix`` is given (mmcv would load nothing from it and say so only in a log line).
    """
    if not isinstance(init_cfg, Mapping) or init_cfg.get("type") != "Pretrained":
        raise UserError(f"{key}: expected dict(type='Pretrained', checkpoint=PATH) "
                        f"(got {init_cfg!r})")
    if "checkpoint" not in init_cfg:
        raise UserError(f"{key}.checkpoint: expected a path (got nothing)")
    path = resolve_checkpoint(str(init_cfg["checkpoint"]), key)
    state = safe_load(path, remedy="save its state_dict again with torch.save (tensors only) "
                            "and point init_cfg.checkpoint at that file")
    if not isinstance(state, Mapping):
        raise UserError(f"{key}.checkpoint: expected a state dict in {path} (got "
                        f"{type(state).__name__})")
    if "state_dict" in state:
        state = state["state_dict"]
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    prefix = init_cfg.get("prefix", "backbone." if any(k.startswith("backbone.")
                                                        for k in state) else "")
    if prefix:
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    own = module.state_dict()
    matched = {}
    for k, v in state.items():
        if k not in own:
            continue
        if own[k].shape != v.shape:
            raise UserError(f"{key}.checkpoint: {k} has shape {tuple(v.shape)} in {path}, "
                            f"expected {tuple(own[k].shape)}")
        matched[k] = v
    if not matched:
        raise UserError(f"{key}.checkpoint: no parameter of {path} matches "
                        f"{type(module).__name__}")
    missing = [k for k in own if k not in matched and not k.endswith("num_batches_tracked")]
    if missing:
        warnings.warn(f"{key}: {len(missing)} tensors of {type(module).__name__} not in {path}, "
                      f"e.g. {missing[:3]}")
    module.load_state_dict(matched, strict=False)

"""Opt-in speed keys (ocr_ds's, not mmcv's): ``compile``, ``channels_last``, ``fused_optimizer``.

Each is off by default, so a config from MMOCR trains exactly as before. What each costs and
when it pays is in the README ("Speed settings"); in short:

- ``compile=True`` or ``compile=dict(backend='inductor', mode=None, dynamic=None,
  fullgraph=False, options=None)``: DeepSpeed's ``engine.compile(backend, compile_kwargs)``
  (``torch.compile`` of the model) right after ``deepspeed.initialize``. DeepSpeed's own
  DeepCompile options go in its section, ``deepspeed=dict(compile=dict(deepcompile=True,
  ...))``, which turns compiling on too. Costs minutes of compilation at the first step (and
  again for each new input shape) and changes results in the last bits (fused kernels).
- ``channels_last=True``: the model's 4-D weights and the ``img`` batches in channels-last
  (NHWC) memory format, which oneDNN (CPU) and cuDNN (tensor cores) convolve fastest. Same
  maths, other summation order: last-bit differences.
- ``fused_optimizer=True``: torch.optim's fused kernel (``fused=True``: SGD, Adam, AdamW,
  Adagrad), else its multi-tensor one (``foreach=True``: Adadelta, RMSprop, ...), written into
  the DeepSpeed optimizer's params. DeepSpeed's own adam/adamw already run its FusedAdam on
  GPUs. Last-bit differences.

Pure: imports torch (for optimizer signatures), never deepspeed.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, Mapping

from ocr_ds.errors import bad_value
from ocr_ds.translate.values import mapping, reject_unknown_keys

COMPILE_KEYS = frozenset({"enabled", "backend", "mode", "dynamic", "fullgraph", "options"})
DEFAULT_BACKEND = "inductor"


@dataclass
class Speed:
    """What the engine builder does beyond the DeepSpeed JSON."""

    compile: dict | None = None   #: ``engine.compile`` kwargs (backend, compile_kwargs), or None
    channels_last: bool = False


def _flag(cfg: Mapping, key: str) -> bool:
    value = cfg.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_value(key, value, "True or False")
    return value


def translate_speed(cfg: Mapping, ds: Mapping, notes: list[str]) -> Speed:
    """Read the speed keys of ``cfg``; ``ds`` is the merged DeepSpeed JSON (its ``compile``
    section, DeepCompile's options, turns compiling on as well)."""
    out = Speed(channels_last=_flag(cfg, "channels_last"))
    spec = cfg.get("compile")
    if isinstance(spec, bool) or spec is None:
        spec = {"enabled": bool(spec)}
    spec = dict(mapping(spec, "compile", "True/False or a dict(backend=..., mode=..., ...)"))
    reject_unknown_keys(spec, COMPILE_KEYS, "compile", "compile (torch.compile's arguments)")
    enabled = spec.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise bad_value("compile.enabled", enabled, "True or False")
    if not enabled and isinstance(ds.get("compile"), Mapping) and ds["compile"].get("deepcompile"):
        enabled = True
        notes.append("compile: deepspeed.compile.deepcompile is on -> engine.compile() with "
                     "DeepSpeed's DeepCompile backend")
    if enabled:
        backend = spec.pop("backend", DEFAULT_BACKEND)
        if not isinstance(backend, str) or not backend:
            raise bad_value("compile.backend", backend, "a torch.compile backend name")
        mode = spec.get("mode")
        if mode is not None and mode not in ("default", "reduce-overhead", "max-autotune",
                                             "max-autotune-no-cudagraphs"):
            raise bad_value("compile.mode", mode, "None, 'default', 'reduce-overhead', "
                            "'max-autotune' or 'max-autotune-no-cudagraphs'")
        kwargs = {k: v for k, v in spec.items() if v is not None}
        out.compile = {"backend": backend, "compile_kwargs": kwargs}
        notes.append(f"compile: engine.compile(backend={backend!r}"
                     f"{''.join(f', {k}={v!r}' for k, v in kwargs.items())}): the first "
                     "iterations (and each new input shape) compile for minutes")
    if out.channels_last:
        notes.append("channels_last: model weights and 'img' batches in channels-last memory "
                     "format")
    return out


#: torch.optim classes with a fused (single-kernel) implementation; others may have foreach
def _accepts(cls: Any, arg: str) -> bool:
    try:
        return arg in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def apply_fused_optimizer(cfg: Mapping, ds: dict, notes: list[str]) -> None:
    """``fused_optimizer=True``: ``fused``/``foreach`` into the optimizer's params (in place,
    after the optimizer name is resolved); an explicit ``fused``/``foreach`` given wins."""
    if not _flag(cfg, "fused_optimizer"):
        return
    import torch.optim

    opt = ds.get("optimizer")
    if not isinstance(opt, Mapping):
        notes.append("fused_optimizer: no optimizer section; nothing to fuse")
        return
    name, params = opt["type"], opt.setdefault("params", {})
    if name in ("adam", "adamw") and not params.get("torch_adam"):
        notes.append(f"fused_optimizer: DeepSpeed's {name!r} runs its own FusedAdam already")
        return
    cls = getattr(torch.optim, {"adam": "Adam", "adamw": "AdamW"}.get(name, name), None)
    if cls is None:
        notes.append(f"fused_optimizer: DeepSpeed builds {name!r} itself; left as it is")
        return
    if "fused" in params or "foreach" in params:
        return
    for arg in ("fused", "foreach"):
        if _accepts(cls, arg):
            params[arg] = True
            notes.append(f"fused_optimizer: {cls.__name__}({arg}=True)")
            return
    notes.append(f"fused_optimizer: torch.optim.{cls.__name__} has no fused or multi-tensor "
                 "kernel; left as it is")

"""Config keys ``fp16``/``bf16``/``autocast`` -> DeepSpeed's ``fp16``/``bf16``/``torch_autocast``.

- ``fp16=dict(loss_scale=...)`` is mmcv's (via ``Fp16OptimizerHook``): a number is a static
  scale, ``'dynamic'`` is ``torch.cuda.amp.GradScaler()`` with its defaults, a dict is
  GradScaler's keyword arguments. mmcv's Fp16 hooks in ``optimizer_config`` turn fp16 on too and
  may carry ``loss_scale`` themselves (default 512, as in mmcv).
- ``bf16=dict(enabled=True, ...)`` and ``autocast=dict(dtype=..., lower_precision_safe_modules=
  [...])`` are our keys, mapped one to one onto DeepSpeed's ``bf16`` and ``torch_autocast``.
- DeepSpeed's dynamic scaler multiplies/divides by a fixed 2.0, so GradScaler's growth_factor
  and backoff_factor can only be 2.0 and 0.5. Its scale starts at ``2**initial_scale_power``, so
  init_scale must be a power of two.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ocr_ds.errors import UserError, bad_value
from ocr_ds.translate.optimizer import HookSettings
from ocr_ds.translate.values import (
    is_number, mapping, positive_int, positive_number, reject_unknown_keys, to_json)

MMCV_FP16_LOSS_SCALE = 512.0        #: mmcv Fp16OptimizerHook's default loss_scale
GRADSCALER_INIT_SCALE = 2.0 ** 16   #: torch GradScaler defaults, what mmcv's 'dynamic' means
GRADSCALER_GROWTH_INTERVAL = 2000
DS_HYSTERESIS = 2                   #: DeepSpeed's defaults for what mmcv has no key for
DS_MIN_LOSS_SCALE = 1
_GRADSCALER_KEYS = frozenset({"init_scale", "growth_interval", "growth_factor", "backoff_factor",
                              "enabled"})
_BF16_KEYS = frozenset({"enabled", "immediate_grad_update", "check_grad_overflow",
                        "bf16_master_weights_and_grads", "bf16_optimizer_states"})
_AUTOCAST_KEYS = frozenset({"enabled", "dtype", "lower_precision_safe_modules"})
AUTOCAST_DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16",
                   "float16": "float16", "fp16": "float16", "half": "float16"}


@dataclass
class Precision:
    """The precision sections and where fp16 came from (for the cpu error)."""

    sections: dict = field(default_factory=dict)
    fp16_key: str | None = None   #: config key that turned fp16 on, None if off
    fp16_dynamic: bool | None = None


def translate_precision(cfg: Mapping, hook: HookSettings, notes: list[str]) -> Precision:
    out = Precision()
    fp16_cfg = cfg.get("fp16")
    if fp16_cfg is not None or hook.fp16_hook:
        out.fp16_key = "fp16" if fp16_cfg is not None else "optimizer_config.type"
        out.sections["fp16"] = _fp16_section(fp16_cfg, hook, notes)
        out.fp16_dynamic = out.sections["fp16"]["loss_scale"] == 0
        notes.append("fp16: DeepSpeed's fp16 casts the model to half (mmcv kept it fp32 under "
                     "autocast); autocast=dict(dtype='float16') is the closer match")
    bf16_cfg = cfg.get("bf16")
    if bf16_cfg is not None:
        section = _bf16_section(bf16_cfg)
        if section["enabled"]:
            out.sections["bf16"] = section
    autocast_cfg = cfg.get("autocast")
    if autocast_cfg is not None:
        section = _autocast_section(autocast_cfg)
        if section["enabled"]:
            out.sections["torch_autocast"] = section
    check_precision_combination(out.sections, {"fp16": out.fp16_key or "fp16", "bf16": "bf16",
                                               "torch_autocast": "autocast"})
    half = "fp16" if "fp16" in out.sections else "bf16" if "bf16" in out.sections else None
    if half:
        # DeepSpeed 0.19 casts parameters to half but keeps buffers fp32; BatchNorm (in every
        # OCR backbone) cannot mix half weights with fp32 running statistics.
        out.sections["data_types"] = {"buffer_dtype": half}
    return out


def check_precision_combination(ds: Mapping, keys: Mapping[str, str]) -> None:
    """At most one of fp16, bf16, torch_autocast enabled; ``keys`` names each for the user."""
    on = [name for name in ("fp16", "bf16", "torch_autocast")
          if isinstance(ds.get(name), Mapping) and ds[name].get("enabled")]
    if len(on) > 1:
        named = " and ".join(keys.get(name, name) for name in on)
        raise UserError(f"{named}: both enabled; DeepSpeed trains in one precision mode: keep one "
                        "of fp16, bf16, autocast (e.g. --cfg-options fp16=None)")


def cpu_fp16_error(fp16_key: str, hook_type: str) -> UserError:
    """The cpu accelerator cannot run DeepSpeed's fp16: tell the user both explicit choices."""
    if fp16_key == "optimizer_config.type":
        plain = hook_type.replace("Fp16", "")
        return UserError(f"optimizer_config.type: {hook_type} trains in fp16, which the cpu "
                         f"accelerator cannot; choose explicitly: --cfg-options "
                         f"optimizer_config.type={plain} (fp32) or optimizer_config.type={plain} "
                         "bf16.enabled=True (bf16)")
    if fp16_key != "fp16":
        return UserError(f"{fp16_key}: true, but the cpu accelerator cannot train in fp16; set it "
                         "false, or use bf16 (bf16.enabled=True)")
    return UserError("fp16: the cpu accelerator cannot train in fp16; choose explicitly: "
                     "--cfg-options fp16=None (fp32) or fp16=None bf16.enabled=True (bf16)")


def _fp16_section(fp16_cfg: Any, hook: HookSettings, notes: list[str]) -> dict:
    key = "fp16.loss_scale"
    loss_scale: Any = MMCV_FP16_LOSS_SCALE
    if fp16_cfg is not None:
        fp16_cfg = mapping(fp16_cfg, "fp16", "None or dict(loss_scale=...)")
        reject_unknown_keys(fp16_cfg, {"loss_scale"}, "fp16", "fp16 (mmcv takes only loss_scale)")
    in_cfg = fp16_cfg is not None and "loss_scale" in fp16_cfg
    if in_cfg and hook.has_loss_scale and fp16_cfg["loss_scale"] != hook.loss_scale:
        raise UserError(f"fp16.loss_scale, optimizer_config.loss_scale: set twice with different "
                        f"values ({fp16_cfg['loss_scale']!r} and {hook.loss_scale!r}); keep one")
    if in_cfg:
        loss_scale = fp16_cfg["loss_scale"]
    elif hook.has_loss_scale:
        loss_scale, key = hook.loss_scale, "optimizer_config.loss_scale"
    else:
        notes.append(f"fp16.loss_scale: not set; mmcv's default static scale "
                     f"{MMCV_FP16_LOSS_SCALE:g}")

    if loss_scale == "dynamic":
        return _dynamic(GRADSCALER_INIT_SCALE, GRADSCALER_GROWTH_INTERVAL, key, notes)
    if isinstance(loss_scale, Mapping):
        reject_unknown_keys(loss_scale, _GRADSCALER_KEYS, key, "the dynamic loss scale "
                            "(torch GradScaler's init_scale, growth_interval, growth_factor, "
                            "backoff_factor)")
        if loss_scale.get("enabled", True) is not True:
            raise bad_value(f"{key}.enabled", loss_scale["enabled"],
                            "True (for no loss scaling use a static loss_scale=1.0)")
        for name, fixed in (("growth_factor", 2.0), ("backoff_factor", 0.5)):
            if name in loss_scale and (not is_number(loss_scale[name])
                                       or loss_scale[name] != fixed):
                raise UserError(f"{key}.{name}: DeepSpeed's dynamic loss scale uses a fixed "
                                f"{fixed} (got {loss_scale[name]!r})")
        return _dynamic(loss_scale.get("init_scale", GRADSCALER_INIT_SCALE),
                        loss_scale.get("growth_interval", GRADSCALER_GROWTH_INTERVAL), key, notes)
    if isinstance(loss_scale, str) or not is_number(loss_scale):
        raise bad_value(key, loss_scale, "a positive number (static scale), 'dynamic', or "
                        "dict(init_scale=..., growth_interval=...)")
    return {"enabled": True, "loss_scale": positive_number(loss_scale, key)}


def _dynamic(init_scale: Any, growth_interval: Any, key: str, notes: list[str]) -> dict:
    init = positive_number(init_scale, f"{key}.init_scale")
    power = math.log2(init)
    if power != int(power) or power < 0:
        raise UserError(f"{key}.init_scale: DeepSpeed starts the dynamic scale at a power of two "
                        f"(2**initial_scale_power); expected 1, 2, 4, ..., 65536, ... "
                        f"(got {init_scale!r})")
    window = positive_int(growth_interval, f"{key}.growth_interval")
    notes.append(f"fp16: dynamic loss scale from 2**{int(power)}, doubled after {window} clean "
                 f"steps; DeepSpeed halves it after {DS_HYSTERESIS} overflows (hysteresis; "
                 f"torch's GradScaler after 1) and stops at min_loss_scale={DS_MIN_LOSS_SCALE}")
    return {"enabled": True, "loss_scale": 0, "initial_scale_power": int(power),
            "loss_scale_window": window, "hysteresis": DS_HYSTERESIS,
            "min_loss_scale": DS_MIN_LOSS_SCALE}


def _bf16_section(bf16_cfg: Any) -> dict:
    bf16_cfg = mapping(bf16_cfg, "bf16", "None or dict(enabled=True)")
    reject_unknown_keys(bf16_cfg, _BF16_KEYS, "bf16", "DeepSpeed's bf16 section")
    section = to_json(dict(bf16_cfg), "bf16")
    for name, value in section.items():
        if not isinstance(value, bool):
            raise bad_value(f"bf16.{name}", value, "True or False")
    section["enabled"] = section.get("enabled", True)
    return section


def _autocast_section(autocast_cfg: Any) -> dict:
    autocast_cfg = mapping(autocast_cfg, "autocast", "None or dict(dtype='bfloat16'|'float16', "
                           "lower_precision_safe_modules=[...])")
    reject_unknown_keys(autocast_cfg, _AUTOCAST_KEYS, "autocast", "autocast")
    enabled = autocast_cfg.get("enabled", True)
    if not isinstance(enabled, bool):
        raise bad_value("autocast.enabled", enabled, "True or False")
    if "dtype" not in autocast_cfg:
        raise UserError("autocast.dtype: missing; expected 'bfloat16' or 'float16'")
    dtype = autocast_cfg["dtype"]
    if not isinstance(dtype, str) or dtype.lower() not in AUTOCAST_DTYPES:
        raise bad_value("autocast.dtype", dtype, "'bfloat16' or 'float16'")
    section: dict[str, Any] = {"enabled": enabled, "dtype": AUTOCAST_DTYPES[dtype.lower()]}
    if autocast_cfg.get("lower_precision_safe_modules") is not None:
        modules = autocast_cfg["lower_precision_safe_modules"]
        if (not isinstance(modules, (list, tuple))
                or not all(isinstance(m, str) and "." in m.strip(".") for m in modules)):
            raise bad_value("autocast.lower_precision_safe_modules", modules,
                            "a list of full class names such as 'torch.nn.modules.conv.Conv2d'")
        section["lower_precision_safe_modules"] = to_json(list(modules),
                                                          "autocast.lower_precision_safe_modules")
    return section

"""``optimizer`` and ``optimizer_config`` (mmcv) -> DeepSpeed's optimizer, clipping, accumulation.

Facts from the installed DeepSpeed 0.19.8 (``runtime/config.py``, ``runtime/engine.py``) that
shape this module:

- DeepSpeed builds these names itself, case-insensitively: ``DEEPSPEED_NATIVE`` below. Every
  other name is looked up on ``torch.optim``, case-sensitively. OneBitAdam, OneBitLamb and
  ZeroOneAdam are gone from this DeepSpeed (the brief's older list still has them).
- ``adam`` means AdamW unless ``adam_w_mode: false`` -- mmcv's ``Adam`` is ``torch.optim.Adam``
  (weight decay added to the gradient, L2), so we write ``adam_w_mode: false`` for it.
- Without ``torch_adam: true`` adam/adamw run FusedAdam (or DeepSpeedCPUAdam under optimizer
  offload), both ops DeepSpeed JIT-compiles on first use; on the CPU accelerator we pick
  ``torch_adam: true`` (``torch.optim.Adam``/``AdamW``) so nothing is compiled.
- Under ZeRO stage >= 1, ``_do_optimizer_sanity_check`` asserts unless the built optimizer's
  class is in ``ZERO_SUPPORTED_OPTIMIZERS`` (torch Adam/AdamW/Adagrad, FusedAdam, the CPU
  Adam/Adagrad/Lion, FusedLion, and Muon's wrapper when it imports) or
  ``zero_allow_untested_optimizer`` is true.
- ``gradient_clipping`` defaults to 1.0, so it is always written.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ocr_ds.errors import UserError, bad_value, unknown_name
from ocr_ds.translate.values import (
    mapping, positive_int, positive_number, reject_unknown_keys, to_json)

#: Names DeepSpeed builds itself (``DEEPSPEED_OPTIMIZERS`` in the installed runtime/config.py).
DEEPSPEED_NATIVE = ("adagrad", "adam", "adamw", "lamb", "lion", "muadam", "muadamw", "musgd",
                    "muon")
#: Native names whose built class passes ZeRO's optimizer check without the "untested" flag.
ZERO_TESTED = frozenset({"adam", "adamw", "adagrad", "lion"})
#: Listed by older DeepSpeed documentation, absent from the installed 0.19.8.
REMOVED_FROM_DEEPSPEED = frozenset({"onebitadam", "onebitlamb", "zerooneadam"})
#: torch.optim classes DeepSpeed's ``engine.step()`` cannot drive, and why.
TORCH_UNUSABLE = {
    "LBFGS": "it needs a closure in step(), which DeepSpeed's engine.step() never passes",
    "SparseAdam": "it only takes sparse gradients and OCR models produce dense ones",
}
#: Keyword arguments FusedAdam takes; anything else (amsgrad aside) needs torch's Adam.
FUSED_ADAM_KEYS = frozenset({"lr", "bias_correction", "betas", "eps", "weight_decay",
                             "adam_w_mode", "set_grad_none", "torch_adam"})
MUP_OPTIMIZERS = frozenset({"muadam", "muadamw", "musgd"})

HOOK_TYPES = ("OptimizerHook", "GradientCumulativeOptimizerHook", "Fp16OptimizerHook",
              "GradientCumulativeFp16OptimizerHook")
_HOOK_BASE_KEYS = frozenset({"type", "grad_clip", "detect_anomalous_params"})
_HOOK_CUMULATIVE_KEYS = frozenset({"cumulative_iters"})
_HOOK_FP16_KEYS = frozenset({"loss_scale", "coalesce", "bucket_size_mb", "distributed"})
_GRAD_CLIP_KEYS = frozenset({"max_norm", "norm_type", "error_if_nonfinite", "foreach"})
_MISSING = object()


def torch_optim_names() -> list[str]:
    """The optimizer classes ``torch.optim`` exports, spelt as torch spells them."""
    import torch.optim  # torch is fine here; only deepspeed must stay out of the translator

    return sorted(name for name in dir(torch.optim)
                  if isinstance(getattr(torch.optim, name), type)
                  and issubclass(getattr(torch.optim, name), torch.optim.Optimizer)
                  and name != "Optimizer")


def resolve_optimizer_name(name: Any, key: str) -> str:
    """The name DeepSpeed will see: lower-case for its own, torch's spelling for torch.optim's."""
    if not isinstance(name, str) or not name:
        raise bad_value(key, name, "an optimizer name such as 'SGD' or 'Adam'")
    lower = name.lower()
    if lower in DEEPSPEED_NATIVE:
        return lower
    if lower in REMOVED_FROM_DEEPSPEED:
        raise UserError(f"{key}: {name!r} was removed from DeepSpeed (the installed 0.19.x has no "
                        f"1-bit optimizers); use one of DeepSpeed's {', '.join(DEEPSPEED_NATIVE)} "
                        "or a torch.optim optimizer")
    torch_names = torch_optim_names()
    if name in TORCH_UNUSABLE:
        raise UserError(f"{key}: torch.optim.{name} cannot be used: {TORCH_UNUSABLE[name]}")
    if name in torch_names:
        return name
    usable = [n for n in torch_names if n not in TORCH_UNUSABLE]
    near = [n for n in usable if n.lower() == lower]
    hint = f" (torch.optim names are case-sensitive: did you mean {near[0]!r}?)" if near else ""
    known = sorted(set(DEEPSPEED_NATIVE) | set(usable))
    raise UserError(f"{key}: unknown optimizer {name!r}{hint}; expected one of DeepSpeed's "
                    f"{', '.join(DEEPSPEED_NATIVE)} (any case) or torch.optim's "
                    f"{', '.join(n for n in known if n in usable)}")


def translate_optimizer(opt_cfg: Any, notes: list[str]) -> dict:
    """mmcv ``optimizer=dict(type=..., **params)`` -> ``{"type": ..., "params": {...}}``.

    The accelerator-dependent choices (``torch_adam``, ZeRO's untested flag) are made later, in
    :func:`finalize_optimizer`, once the user's DeepSpeed section is merged in.
    """
    if opt_cfg is None:
        raise UserError("optimizer: missing; expected dict(type=<optimizer name>, lr=..., ...)")
    opt_cfg = mapping(opt_cfg, "optimizer", "dict(type=<optimizer name>, lr=..., ...)")
    params = dict(opt_cfg)
    if "paramwise_cfg" in params:
        raise UserError("optimizer.paramwise_cfg: per-parameter options (mmcv's paramwise_cfg) are "
                        "not supported: DeepSpeed builds one optimizer from 'optimizer.params' for "
                        "all parameters; remove paramwise_cfg")
    constructor = params.pop("constructor", "DefaultOptimizerConstructor")
    if constructor != "DefaultOptimizerConstructor":
        raise UserError(f"optimizer.constructor: custom optimizer constructors are not supported "
                        f"(got {constructor!r}); only mmcv's default, which needs no entry")
    if "type" not in params:
        raise UserError("optimizer.type: missing; expected an optimizer name such as 'SGD' or "
                        "'Adam'")
    given = params.pop("type")
    name = resolve_optimizer_name(given, "optimizer.type")
    params = to_json(params, "optimizer")
    check_optimizer_params(name, params, lambda path: f"optimizer.{path.rpartition('.')[2]}")

    if name == "adam":
        if "adam_w_mode" not in params:
            # mmcv builds torch.optim.Adam: weight_decay is L2 (added to the gradient).
            params["adam_w_mode"] = False
            notes.append(f"optimizer: {given!r} -> DeepSpeed 'adam' with adam_w_mode=false, i.e. "
                         "torch.optim.Adam semantics (weight_decay is L2, as in mmcv); use "
                         "type='AdamW' for decoupled weight decay")
    elif name == "adamw" and "weight_decay" not in params:
        # torch.optim.AdamW (what mmcv builds) defaults to 0.01; DeepSpeed's FusedAdam to 0.
        params["weight_decay"] = 0.01
        notes.append("optimizer.weight_decay: not set for AdamW; writing torch.optim.AdamW's "
                     "default 0.01 (DeepSpeed's FusedAdam would default to 0)")
    if name == "muon" and given != "muon":
        notes.append(f"optimizer.type: {given!r} is DeepSpeed's Muon (with an auxiliary Adam), not "
                     "torch.optim.Muon: DeepSpeed matches its own names case-insensitively")
    return {"type": name, "params": params}


def check_optimizer_params(name: str, params: Mapping, key: Callable[[str], str]) -> None:
    """Parameter errors DeepSpeed would raise at initialize.

    ``key`` turns a DeepSpeed path (``optimizer.params.lr``) into the key the user wrote.
    """
    if "max_grad_norm" in params:
        raise UserError(f"{key('optimizer.params.max_grad_norm')}: DeepSpeed rejects it as an "
                        "optimizer parameter; clip with optimizer_config.grad_clip="
                        "dict(max_norm=...) instead")
    if name == "adamw" and params.get("adam_w_mode", True) is not True:
        raise UserError(f"{key('optimizer.params.adam_w_mode')}: DeepSpeed's 'adamw' always "
                        f"decouples weight decay (got adam_w_mode={params['adam_w_mode']!r}); use "
                        "type='Adam' for L2 weight decay")
    if name in MUP_OPTIMIZERS and importlib.util.find_spec("mup") is None:
        raise UserError(f"{key('optimizer.type')}: DeepSpeed's {name!r} needs the 'mup' package, "
                        "which is not installed")


def finalize_optimizer(ds: dict, *, accelerator: str, key: Callable[[str], str],
                       fp16_dynamic: bool | None, notes: list[str]) -> None:
    """Choices that depend on the accelerator and the merged ZeRO section, made in place.

    ``key`` turns a DeepSpeed path into the key the user wrote (config or DeepSpeed section),
    for errors; ``fp16_dynamic`` is None when fp16 is off, else whether its scale is dynamic.
    """
    opt = ds.get("optimizer")
    if opt is None:
        return
    opt = mapping(opt, key("optimizer"), "a dict with 'type' and 'params'")
    source = key("optimizer.type")
    name = resolve_optimizer_name(opt.get("type"), source)
    opt["type"] = name
    params = opt.setdefault("params", {})
    mapping(params, key("optimizer.params"))
    check_optimizer_params(name, params, key)

    zero = ds.get("zero_optimization") or {}
    stage = zero.get("stage", 0)
    offload_cfg = zero.get("offload_optimizer")
    offload = isinstance(offload_cfg, Mapping) and offload_cfg.get("device") in ("cpu", "nvme")

    if name in ("adam", "adamw") and "torch_adam" not in params:
        if accelerator == "cpu":
            params["torch_adam"] = True
            torch_cls = "AdamW" if name == "adamw" or params.get("adam_w_mode", True) else "Adam"
            notes.append(f"optimizer: cpu accelerator -> torch_adam=true ({name!r} runs "
                         f"torch.optim.{torch_cls}; DeepSpeed's FusedAdam/DeepSpeedCPUAdam would "
                         "JIT-compile a C++ op)")
        elif not offload and (set(params) - FUSED_ADAM_KEYS or params.get("amsgrad")):
            extra = sorted(set(params) - FUSED_ADAM_KEYS)
            params["torch_adam"] = True
            notes.append(f"optimizer: {', '.join(extra)} not supported by DeepSpeed's FusedAdam -> "
                         "torch_adam=true (torch.optim's implementation)")
        elif offload:
            notes.append("optimizer: ZeRO optimizer offload -> DeepSpeedCPUAdam (JIT-compiled with "
                         "the system C++ compiler on first use)")
        else:
            notes.append("optimizer: DeepSpeed's FusedAdam (a CUDA op JIT-compiled on first use; "
                         "set deepspeed=dict(optimizer=dict(params=dict(torch_adam=True))) to use "
                         "torch.optim instead)")
    if name == "lamb":
        if accelerator == "cpu":
            raise UserError(f"{source}: DeepSpeed's 'lamb' is a GPU kernel (FusedLamb) that the "
                            "cpu accelerator does not have; choose another optimizer")
        if fp16_dynamic is False:
            raise UserError(f"{source}: DeepSpeed's 'lamb' needs dynamic loss scaling; set "
                            "fp16=dict(loss_scale='dynamic')")
    if name == "lion" and accelerator == "cpu" and not offload:
        raise UserError(f"{source}: DeepSpeed's 'lion' is a GPU kernel (FusedLion) on the cpu "
                        "accelerator without ZeRO optimizer offload; choose another optimizer")

    if stage >= 1 and name not in ZERO_TESTED:
        if ds.get("zero_allow_untested_optimizer", None) is False:
            raise UserError(f"zero_allow_untested_optimizer: false, but {name!r} is not one of "
                            f"ZeRO's tested optimizers ({', '.join(sorted(ZERO_TESTED))}) and "
                            f"DeepSpeed refuses it at stage {stage} unless this is true")
        if not ds.get("zero_allow_untested_optimizer"):
            ds["zero_allow_untested_optimizer"] = True
            notes.append(f"zero_allow_untested_optimizer: true ({name!r} is not one of ZeRO's "
                         f"tested optimizers {', '.join(sorted(ZERO_TESTED))}; stage {stage} "
                         "would refuse it otherwise)")


@dataclass
class HookSettings:
    """What ``optimizer_config`` says, in DeepSpeed's terms."""

    gradient_clipping: float = 0.0
    gradient_accumulation_steps: int = 1
    fp16_hook: bool = False       #: type is one of mmcv's Fp16 hooks
    loss_scale: Any = _MISSING    #: the Fp16 hook's own ``loss_scale``, when given
    hook_type: str = "OptimizerHook"

    @property
    def has_loss_scale(self) -> bool:
        return self.loss_scale is not _MISSING


def translate_optimizer_hook(hook_cfg: Any, notes: list[str]) -> HookSettings:
    """mmcv ``optimizer_config`` -> clipping, accumulation, and whether it is an fp16 hook."""
    out = HookSettings()
    if hook_cfg is None:
        notes.append("gradient_clipping: 0.0 (no optimizer_config; DeepSpeed's own default "
                     "would clip at 1.0)")
        return out
    hook_cfg = mapping(hook_cfg, "optimizer_config", "a dict (mmcv OptimizerHook options)")
    hook_type = hook_cfg.get("type", "OptimizerHook")
    if hook_type not in HOOK_TYPES:
        raise unknown_name("optimizer_config.type", hook_type, HOOK_TYPES)
    out.hook_type = hook_type
    cumulative = hook_type.startswith("GradientCumulative")
    out.fp16_hook = "Fp16" in hook_type
    allowed = (_HOOK_BASE_KEYS | (_HOOK_CUMULATIVE_KEYS if cumulative else frozenset())
               | (_HOOK_FP16_KEYS if out.fp16_hook else frozenset()))
    reject_unknown_keys(hook_cfg, allowed, "optimizer_config", hook_type)

    if hook_cfg.get("detect_anomalous_params"):
        raise UserError("optimizer_config.detect_anomalous_params: not supported under DeepSpeed "
                        "(got True); expected False or no entry")
    for name in sorted((_HOOK_FP16_KEYS - {"loss_scale"}) & set(hook_cfg)):
        notes.append(f"optimizer_config.{name}: ignored (DeepSpeed does its own gradient "
                     "all-reduce)")
    if cumulative:
        out.gradient_accumulation_steps = positive_int(
            hook_cfg.get("cumulative_iters", 1), "optimizer_config.cumulative_iters")
    if "loss_scale" in hook_cfg:
        out.loss_scale = hook_cfg["loss_scale"]

    grad_clip = hook_cfg.get("grad_clip")
    if grad_clip is None:
        notes.append("gradient_clipping: 0.0 (optimizer_config.grad_clip is None; DeepSpeed's "
                     "own default would clip at 1.0)")
        return out
    grad_clip = mapping(grad_clip, "optimizer_config.grad_clip",
                        "None or dict(max_norm=..., norm_type=2)")
    reject_unknown_keys(grad_clip, _GRAD_CLIP_KEYS, "optimizer_config.grad_clip",
                        "grad_clip (torch's clip_grad_norm_)")
    if "max_norm" not in grad_clip:
        raise UserError("optimizer_config.grad_clip.max_norm: missing; expected a positive number "
                        "(or grad_clip=None for no clipping)")
    out.gradient_clipping = positive_number(grad_clip["max_norm"],
                                            "optimizer_config.grad_clip.max_norm")
    norm_type = grad_clip.get("norm_type", 2)
    if isinstance(norm_type, bool) or norm_type not in (2, 2.0):
        raise UserError(f"optimizer_config.grad_clip.norm_type: DeepSpeed clips by L2 norm only "
                        f"(got {norm_type!r})")
    if grad_clip.get("error_if_nonfinite"):
        raise UserError("optimizer_config.grad_clip.error_if_nonfinite: not supported by "
                        "DeepSpeed's clipping (got True); expected False or no entry")
    return out

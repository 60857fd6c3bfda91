"""Bytes of training state one rank holds: parameters, gradients, optimizer state, the rest.

``rank_state_bytes(engine)`` finds the tensors a DeepSpeed engine keeps on this rank, counts each
underlying storage once (a view of a flat buffer counts the buffer, once) and sorts the storages
into five kinds:

``params``
    storage behind the model's parameters: ``p.data`` (at ZeRO-1/2 a view of DeepSpeed's flat
    ``bit16_groups_flat`` buffer, so the whole buffer) and, at ZeRO-3, each parameter's partition
    ``p.ds_tensor`` (a released ZeRO-3 parameter's ``p.data`` is empty and counts nothing).
``master``
    separate copies of the weights the optimizer updates: at ZeRO-1/2
    ``single_partition_of_fp32_groups`` (this rank's slice), at ZeRO-3
    ``fp32_partitioned_groups_flat``. Both are copies even in fp32 training, unless they share
    storage with the parameters (then they count as ``params``).
``grads``
    gradient storage: every ``.grad`` reached (the model's parameters, the optimizer's flat
    partitions) and every tensor held under an attribute whose name says gradient
    (``averaged_gradients``, ``grad_partitions_flat_buffer``, ...; not ``_global_grad_norm``).
``optimizer``
    the tensors in the torch optimizer's ``state`` (Adam: ``exp_avg``, ``exp_avg_sq``, ``step``).
``other``
    anything else the engine or its optimizer holds (communication buckets, ...), by name in
    ``details``.

A storage gets the first kind that claims it, in the order params, optimizer, grads, master,
other: one that is both a parameter and reached under a gradient attribute counts as ``params``. The walk follows the engine's and the ZeRO
optimizer's attributes through lists, tuples and dicts; it does not look at activations, the data
loader or the autograd graph, so call it between iterations (or at a step) to see the state.
"""
from __future__ import annotations

from typing import Any, Iterator

import torch

KINDS = ("params", "master", "grads", "optimizer", "other")
#: DeepSpeed's lists of the flat weight partitions its ZeRO optimizers update
MASTER_ATTRS = ("single_partition_of_fp32_groups", "fp32_partitioned_groups_flat")
_MAX_DEPTH = 4


def _storage_key(t: torch.Tensor) -> tuple[int, int] | None:
    if t.device.type == "meta":
        return None
    s = t.untyped_storage()
    if s.nbytes() == 0:
        return None
    return s.data_ptr(), s.nbytes()


def _walk(obj: Any, path: str, depth: int, seen: set[int]) -> Iterator[tuple[str, torch.Tensor]]:
    """Tensors reachable from ``obj`` through attributes, lists, tuples and dicts."""
    if id(obj) in seen or depth > _MAX_DEPTH:
        return
    if isinstance(obj, torch.Tensor):
        seen.add(id(obj))
        yield path, obj
        if obj.grad is not None:
            yield path + ".grad", obj.grad
        if getattr(obj, "ds_tensor", None) is not None:
            yield path + ".ds_tensor", obj.ds_tensor
        return
    if isinstance(obj, torch.nn.Module) or isinstance(obj, (str, bytes, int, float, bool)) or obj is None:
        return
    seen.add(id(obj))
    if isinstance(obj, dict):
        items = [(str(k) if not isinstance(k, torch.Tensor) else "<tensor>", v) for k, v in obj.items()]
    elif isinstance(obj, (list, tuple, set)):
        items = [(str(i), v) for i, v in enumerate(obj)]
    elif hasattr(obj, "__dict__") and type(obj).__module__.split(".")[0] in ("deepspeed", "torch"):
        items = list(vars(obj).items())
    else:
        return
    for name, value in items:
        yield from _walk(value, f"{path}.{name}", depth + 1, seen)


def inner_optimizer(engine: Any) -> Any:
    """The torch optimizer doing the update (inside DeepSpeed's ZeRO wrapper, if any)."""
    opt = engine.optimizer
    while not isinstance(opt, torch.optim.Optimizer) and getattr(opt, "optimizer", None) is not None:
        opt = opt.optimizer
    return opt


def rank_state_bytes(engine: Any) -> dict[str, Any]:
    """This rank's bytes by kind (see the module docstring), their sum and what ``other`` is.

    Returns ``{"params": int, "master": int, "grads": int, "optimizer": int, "other": int,
    "total": int, "details": {"other": {path: bytes}, "grads": {path: bytes}}}``.
    """
    kind_of: dict[tuple[int, int], str] = {}
    where: dict[tuple[int, int], str] = {}

    def claim(key: tuple[int, int] | None, kind: str, path: str) -> None:
        if key is not None and key not in kind_of:
            kind_of[key], where[key] = kind, path

    module = engine.module
    for name, p in module.named_parameters():
        claim(_storage_key(p.data), "params", f"module.{name}")
        if getattr(p, "ds_tensor", None) is not None:
            claim(_storage_key(p.ds_tensor), "params", f"module.{name}.ds_tensor")
    inner = inner_optimizer(engine)
    if inner is not None:
        for state in inner.state.values():
            for sname, t in state.items():
                if isinstance(t, torch.Tensor):
                    claim(_storage_key(t), "optimizer", f"optimizer.state.{sname}")
    for name, p in module.named_parameters():
        if p.grad is not None:
            claim(_storage_key(p.grad), "grads", f"module.{name}.grad")
    found = list(_walk({k: v for k, v in vars(engine.optimizer).items()} if engine.optimizer is not None
                       else {}, "optimizer", 0, set()))
    found += list(_walk({k: v for k, v in vars(engine).items() if k not in ("module", "optimizer")},
                        "engine", 0, set()))
    for path, t in found:
        leaf = path.lower()
        if leaf.endswith(".grad") or any("grad" in part and "norm" not in part
                                         for part in leaf.split(".")):
            claim(_storage_key(t), "grads", path)
    if inner is not None:
        for g, group in enumerate(inner.param_groups):
            for p in group["params"]:
                claim(_storage_key(p), "master", f"optimizer.param_groups.{g}")
    for name in MASTER_ATTRS:  # ZeRO-3 puts its flat partitions in param_groups only during step
        for i, t in enumerate(getattr(engine.optimizer, name, None) or []):
            if isinstance(t, torch.Tensor):
                claim(_storage_key(t), "master", f"optimizer.{name}.{i}")
    for path, t in found:
        claim(_storage_key(t), "other", path)

    out: dict[str, Any] = {k: 0 for k in KINDS}
    details: dict[str, dict[str, int]] = {"other": {}, "grads": {}}
    for key, kind in kind_of.items():
        out[kind] += key[1]
        if kind in details:
            path = where[key]
            details[kind][path] = details[kind].get(path, 0) + key[1]
    out["total"] = sum(out[k] for k in KINDS)
    out["details"] = details
    return out

"""Checkpoints on disk: DeepSpeed's per-rank files plus our metadata, never half-written.

Layout under the checkpoint root (the work dir, or ``checkpoint_config.out_dir/<work dir name>``)::

    epoch_3/                       DeepSpeed's files (every rank writes its part)
        ocr_ds_rng_rank{R}.pt      each rank's RNG states
        ocr_ds_meta.json           written last, by rank 0, after every rank finished
    best_acc_epoch_2/model.pth     weights only ({'state_dict', 'meta'}), for best/weights-only saves
    latest                         the tag of the newest COMPLETE checkpoint (DeepSpeed's format)

Fault injection for the test suite: ``OCR_DS_FAILPOINT=kill_in_save:<tag>`` SIGKILLs the process
after DeepSpeed wrote its files for ``<tag>`` and before the checkpoint is declared complete.

A checkpoint is complete when its ``ocr_ds_meta.json`` exists. ``latest`` is replaced
atomically (write a temp file, fsync, rename) only after the metadata is written, so a crash or
a full disk during a save leaves ``latest`` naming the previous complete checkpoint.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import time
from typing import Any

import numpy as np
import torch

from ocr_ds.atomic import atomic_save, atomic_write
from ocr_ds.engine import dist
from ocr_ds.errors import TrainingFault, UserError

META = "ocr_ds_meta.json"
WEIGHTS = "model.pth"
LATEST = "latest"


def atomic_torch_save(obj: Any, path: str) -> None:
    atomic_save(path, lambda tmp: torch.save(obj, tmp))


def is_complete(path: str) -> bool:
    return os.path.isfile(os.path.join(path, META))


def read_meta(path: str) -> dict[str, Any]:
    with open(os.path.join(path, META)) as f:
        return json.load(f)


def read_latest(root: str) -> str | None:
    """The tag ``root/latest`` names, if it names a complete checkpoint."""
    try:
        with open(os.path.join(root, LATEST)) as f:
            tag = f.read().strip()
    except OSError:
        return None
    return tag if tag and is_complete(os.path.join(root, tag)) else None


def complete_checkpoints(root: str, pattern: str = r"(epoch|iter)_\d+") -> list[str]:
    """Complete checkpoint tags in ``root`` matching ``pattern``, oldest (fewest iters) first."""
    if not os.path.isdir(root):
        return []
    tags = [t for t in os.listdir(root)
            if re.fullmatch(pattern, t) and is_complete(os.path.join(root, t))]
    return sorted(tags, key=lambda t: (read_meta(os.path.join(root, t)).get("iter", 0), t))


def find_resume(root: str) -> str | None:
    """The checkpoint ``--auto-resume`` continues from: ``latest`` if complete, else the newest."""
    tag = read_latest(root)
    if tag is None:
        tags = complete_checkpoints(root)
        tag = tags[-1] if tags else None
    return os.path.join(root, tag) if tag else None


def rng_state() -> dict[str, Any]:
    np_state = np.random.get_state()
    return {
        "python": json.dumps(random.getstate()),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_state(state: dict[str, Any]) -> None:
    version, internal, gauss = json.loads(state["python"])
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def full_state_dict(engine: Any) -> dict[str, torch.Tensor] | None:
    """The whole model's weights on rank 0 (None elsewhere). Collective: call on every rank."""
    if engine.zero_optimization_partition_weights():  # ZeRO-3: gather the partitions
        sd = engine._zero3_consolidated_16bit_state_dict()
    else:
        sd = engine.module.state_dict() if dist.is_main() else None
    if sd is None:
        return None
    return {k: (v.detach().float().cpu() if v.is_floating_point() else v.detach().cpu())
            for k, v in sd.items()}


class CheckpointWriteError(TrainingFault):
    """Writing a checkpoint failed (full disk, I/O error); the previous one is still ``latest``."""


def save(engine: Any, root: str, tag: str, meta: dict[str, Any], *, save_optimizer: bool = True,
         update_latest: bool = True) -> str:
    """Save a checkpoint ``root/tag`` on every rank; returns its path. Collective."""
    try:
        return _save(engine, root, tag, meta, save_optimizer, update_latest)
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, TrainingFault):
            raise
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointWriteError(
            f"could not write checkpoint {os.path.join(root, tag)} ({reason}); 'latest' still "
            f"names {read_latest(root) or 'no checkpoint'}") from exc


def _failpoint(name: str, tag: str) -> None:
    if os.environ.get("OCR_DS_FAILPOINT") == f"{name}:{tag}":
        os.kill(os.getpid(), signal.SIGKILL)


def _save(engine: Any, root: str, tag: str, meta: dict[str, Any], save_optimizer: bool,
          update_latest: bool) -> str:
    path = os.path.join(root, tag)
    if dist.is_main():
        os.makedirs(root, exist_ok=True)
        if os.path.exists(os.path.join(path, META)):  # re-saving a tag: invalidate it first
            os.remove(os.path.join(path, META))
    dist.barrier()
    meta = dict(meta, tag=tag, world_size=dist.get_world_size(), save_optimizer=save_optimizer,
                time=time.strftime("%Y-%m-%d %H:%M:%S"))
    if save_optimizer:
        engine.save_checkpoint(root, tag=tag, client_state={}, save_latest=False)
        atomic_torch_save(rng_state(), os.path.join(path, f"ocr_ds_rng_rank{dist.get_rank()}.pt"))
    else:
        weights = full_state_dict(engine)
        if dist.is_main():
            os.makedirs(path, exist_ok=True)
            atomic_torch_save({"state_dict": weights, "meta": meta}, os.path.join(path, WEIGHTS))
    _failpoint("kill_in_save", tag)
    dist.barrier()  # every rank's files are on disk before the checkpoint is declared complete
    if dist.is_main():
        atomic_write(os.path.join(path, META), json.dumps(meta, indent=1))
        if update_latest:
            atomic_write(os.path.join(root, LATEST), tag)
    dist.barrier()
    return path


def remove(path: str) -> None:
    """Delete a checkpoint: metadata first, so a crash mid-delete leaves it marked incomplete."""
    if os.path.exists(os.path.join(path, META)):
        os.remove(os.path.join(path, META))
    shutil.rmtree(path, ignore_errors=True)


def resolve(path: str) -> tuple[str, str]:
    """``--resume-from`` accepts a checkpoint dir or a root holding ``latest``: (root, tag)."""
    path = os.path.normpath(path)
    if not os.path.isdir(path):
        raise UserError(f"--resume-from: {path!r} is not a checkpoint directory")
    if is_complete(path):
        return os.path.dirname(path) or ".", os.path.basename(path)
    tag = read_latest(path)
    if tag:
        return path, tag
    if os.path.isfile(os.path.join(path, LATEST)):
        with open(os.path.join(path, LATEST)) as f:
            named = f.read().strip()
        raise UserError(f"--resume-from: {os.path.join(path, LATEST)} names {named!r}, which is "
                        f"not a complete checkpoint (expected a directory {named or '<tag>'} "
                        f"with {META} next to it)")
    raise UserError(f"--resume-from: {path!r} is not a complete checkpoint "
                    f"(no {META}) and holds no 'latest' naming one")


def check_resumable(path: str) -> tuple[str, str, dict[str, Any]]:
    """``(root, tag, meta)`` of the checkpoint ``path`` names, or a :class:`UserError` saying
    why training cannot resume from it (checked before anything is written)."""
    root, tag = resolve(path)
    ckpt = os.path.join(root, tag)
    try:
        meta = read_meta(ckpt)
    except (OSError, ValueError) as exc:
        raise UserError(f"--resume-from: {os.path.join(ckpt, META)}: expected JSON metadata "
                        f"({exc})") from None
    if not meta.get("save_optimizer", True):
        raise UserError(f"--resume-from: {ckpt} holds weights only (save_optimizer=False); "
                        "start from it with --load-from instead")
    return root, tag, meta


def _states(path: str) -> dict[str, Any]:
    """A DeepSpeed model-states file of ours, tensors memory-mapped (shapes without reading)."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    except Exception as exc:  # noqa: BLE001 - truncated or foreign: the user's file
        raise UserError(f"--resume-from: {path}: cannot be read ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else ''})") from None


def _stage_kind(stage: int) -> str:
    return {0: "without ZeRO", 3: "ZeRO-3"}.get(stage, "ZeRO-1/2")


def check_fits(path: str, model: torch.nn.Module, zero_stage: int) -> tuple[str, str, dict]:
    """Before anything is written: the checkpoint ``path`` names has every file DeepSpeed will
    read, was saved in an optimizer-state layout this run can load (ZeRO stage; another world
    size is converted, :mod:`ocr_ds.engine.universal`) and holds the config's model (names and
    shapes). Otherwise a :class:`UserError`, where DeepSpeed would fail with a traceback after
    the work dir exists. Returns :func:`check_resumable`'s ``(root, tag, meta)``."""
    root, tag, meta = check_resumable(path)
    ckpt = os.path.join(root, tag)
    saved_world = int(meta.get("world_size", 1))
    z3 = os.path.join(ckpt, "zero_pp_rank_0_mp_rank_00_model_states.pt")
    states_file = z3 if os.path.isfile(z3) else os.path.join(ckpt, "mp_rank_00_model_states.pt")
    if not os.path.isfile(states_file):
        raise UserError(f"--resume-from: {ckpt}: no DeepSpeed model states "
                        "(mp_rank_00_model_states.pt) in it; expected a complete checkpoint")
    states = _states(states_file)
    saved_stage = int(((states.get("ds_config") or {}).get("zero_optimization") or {})
                      .get("stage", 0))
    needed = []
    if saved_stage >= 1:
        needed = [f"zero_pp_rank_{r}_mp_rank_00_optim_states.pt" for r in range(saved_world)]
    if saved_stage == 3:
        needed += [f"zero_pp_rank_{r}_mp_rank_00_model_states.pt" for r in range(saved_world)]
    missing = [n for n in needed if not os.path.isfile(os.path.join(ckpt, n))]
    if missing:
        raise UserError(f"--resume-from: {ckpt}: {len(missing)} of the files its {saved_world} "
                        f"ranks wrote are missing, e.g. {missing[0]}")
    if _stage_kind(saved_stage) != _stage_kind(zero_stage):
        raise UserError(f"--resume-from: {ckpt} was saved {_stage_kind(saved_stage)} (stage "
                        f"{saved_stage}), this run trains {_stage_kind(zero_stage)} (stage "
                        f"{zero_stage}); expected the same optimizer-state layout: set "
                        f"deepspeed.zero_optimization.stage={saved_stage}")
    if saved_stage == 3:
        shapes = {k: tuple(v) for part in states.get("param_shapes") or [] for k, v in part.items()}
    else:
        shapes = {k: tuple(v.shape) for k, v in (states.get("module") or {}).items()
                  if hasattr(v, "shape")}
    own = dict(model.named_parameters())
    wrong = [f"{k}: checkpoint {shapes[k]} vs model {tuple(p.shape)}" for k, p in own.items()
             if k in shapes and shapes[k] != tuple(p.shape)]
    wrong += [f"{k}: not in the checkpoint" for k in own if k not in shapes]
    if wrong:
        raise UserError(f"--resume-from: {ckpt}: {len(wrong)} model tensors do not fit, e.g. "
                        f"{'; '.join(wrong[:2])}; expected a checkpoint of the config's model")
    return root, tag, meta


def load(engine: Any, path: str, universal_dir: str | None = None) -> dict[str, Any]:
    """Restore model, optimizer and this rank's RNG from ``path``; returns the metadata.
    ``universal_dir``: DeepSpeed reads the weights and optimizer state from this universal
    conversion of the checkpoint instead (:mod:`ocr_ds.engine.universal`).

    Only our own checkpoints (with ``ocr_ds_meta.json``) are resumed: DeepSpeed reads its files
    with a full unpickler, so a directory we did not write is refused by :func:`resolve`."""
    root, tag, meta = check_resumable(path)
    ckpt = os.path.join(root, tag)
    if universal_dir:
        load_path, _ = engine.load_checkpoint(os.path.dirname(universal_dir),
                                              tag=os.path.basename(universal_dir))
    else:
        load_path, _ = engine.load_checkpoint(root, tag=tag)
    if load_path is None:
        raise UserError(f"--resume-from: DeepSpeed could not load {ckpt}")
    rng_file = os.path.join(ckpt, f"ocr_ds_rng_rank{dist.get_rank()}.pt")
    if os.path.exists(rng_file):
        set_rng_state(torch.load(rng_file, weights_only=True))
    return meta

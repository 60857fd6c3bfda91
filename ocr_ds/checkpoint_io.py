"""Read weights from anything we write: an exported ``.pth``, a plain state dict, or one of our
DeepSpeed checkpoint directories (any ZeRO stage); and MMOCR 0.6.3's checkpoints (``meta`` +
``state_dict``, as its ``tools/publish_model.py`` leaves them). Used by ``--load-from``,
inference and export. :func:`match_state_dict` meets a checkpoint with a model: names and
shapes, and earlier ocr_ds names renamed to MMOCR's (:data:`LEGACY_RENAMES`).

Returns ``(state_dict, meta)``; ``meta`` holds at least the training config when we wrote the
file (``meta['config']``). Our own ``.pth`` files load with ``torch.load(weights_only=True)``.

Security: a pickle can run code when it is loaded. Every file is read with
``torch.load(weights_only=True)``, which only rebuilds tensors and plain containers; a file that
needs more (a "foreign" pickle: custom classes, numpy objects in ``meta``) is refused with one
line naming the file and ``--allow-unsafe-pickle``. With ``allow_unsafe_pickle=True`` (that
flag) it is loaded with ``weights_only=False``: only for files you trust. A DeepSpeed checkpoint
directory we wrote (it holds our ``ocr_ds_meta.json``) is ours: DeepSpeed's ZeRO optimizer-state
files in it, which need a full unpickler, are read without the flag; in a directory without our
metadata they are foreign.
"""
from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import pickle
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch

from ocr_ds.errors import UNSAFE_FLAG, UserError

META = "ocr_ds_meta.json"
# Tensors earlier ocr_ds versions named differently from MMOCR 0.6.3 (now the only names):
# (old-name pattern, MMOCR's name). Up to commit 9380a69 the FPNC (DBNet) and FPNF (PSENet)
# necks built each conv-norm-ReLU as an nn.Sequential: ``.0`` the conv, ``.1`` the norm, where
# MMOCR's ConvModule says ``.conv`` and ``.bn``. A rule applies to a key only when the model has
# no tensor of that name and has the renamed one.
LEGACY_RENAMES: tuple[tuple[str, str], ...] = (
    (r"^(neck\.(?:lateral_convs|smooth_convs|fpn_convs)\.\d+)\.0\.", r"\1.conv."),
    (r"^(neck\.(?:lateral_convs|smooth_convs|fpn_convs)\.\d+)\.1\.", r"\1.bn."),
    (r"^(neck\.(?:out_conv|output_convs))\.0\.", r"\1.conv."),
    (r"^(neck\.(?:out_conv|output_convs))\.1\.", r"\1.bn."),
)


def strip_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop the ``module.`` prefix DDP/DeepSpeed wrappers leave on parameter names."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def rename_legacy_keys(state: Mapping[str, torch.Tensor], model_keys: Mapping[str, Any]
                       ) -> tuple[dict[str, torch.Tensor], list[tuple[str, str]]]:
    """``state`` with earlier ocr_ds names (:data:`LEGACY_RENAMES`) renamed to the model's;
    also returns the ``(old, new)`` pairs renamed."""
    out: dict[str, torch.Tensor] = {}
    renamed = []
    for key, value in state.items():
        if key not in model_keys:
            for pattern, repl in LEGACY_RENAMES:
                new = re.sub(pattern, repl, key)
                if new != key and new in model_keys and new not in state:
                    renamed.append((key, new))
                    key = new
                    break
        out[key] = value
    return out, renamed


@dataclass
class StateMatch:
    """How a checkpoint's tensors meet a model's: what loads, and what does not."""

    loadable: dict[str, torch.Tensor]
    total: int                                           # tensors of the model
    missing: list[str] = field(default_factory=list)     # the model's, not in the checkpoint
    unexpected: list[str] = field(default_factory=list)  # the checkpoint's, not in the model
    mismatched: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # (key, file, model)
    renamed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        line = (f"loaded {len(self.loadable)} tensors; {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected")
        if self.mismatched:
            line += f", {len(self.mismatched)} of another shape (kept at their initial values)"
        return line


def match_state_dict(model: torch.nn.Module, state: Mapping[str, torch.Tensor]) -> StateMatch:
    """Match ``state`` (``module.`` prefixes dropped, earlier ocr_ds names renamed) to
    ``model``'s state dict by name and shape."""
    own = model.state_dict()
    state, renamed = rename_legacy_keys(strip_module_prefix(dict(state)), own)
    match = StateMatch(loadable={}, total=len(own), renamed=renamed)
    for key, value in state.items():
        if key not in own:
            match.unexpected.append(key)
        elif tuple(value.shape) != tuple(own[key].shape):
            match.mismatched.append((key, tuple(value.shape), tuple(own[key].shape)))
        else:
            match.loadable[key] = value
    mismatched = {k for k, _, _ in match.mismatched}
    match.missing = [k for k in own if k not in match.loadable and k not in mismatched]
    return match


def safe_load(path: str, allow_unsafe_pickle: bool = False, remedy: str | None = None) -> Any:
    """``torch.load`` of ``path`` on the CPU, weights-only unless ``allow_unsafe_pickle``.

    A foreign pickle (one the weights-only unpickler refuses) or an unreadable file is a
    :class:`UserError` naming the file; ``remedy`` replaces the advice to pass the flag where
    the flag does not apply.
    """
    _check_container(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights only load failed" not in str(exc).lower():
            raise _corrupt(path, exc) from None
        if not allow_unsafe_pickle:
            raise UserError(f"{path}: refusing to unpickle a checkpoint that is not weights-only "
                            f"(it holds Python objects besides tensors, which could run code); "
                            + (remedy or f"pass {UNSAFE_FLAG} to load it anyway, only for files "
                               "you trust")) from None
    except Exception as exc:  # noqa: BLE001 - a truncated zip, garbage bytes: the user's file
        raise _corrupt(path, exc) from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise _corrupt(path, exc) from None


#: first bytes of files people mistake for checkpoints, and what they are
_SIGNATURES = ((b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
               (b"\x93NUMPY", "a numpy .npy array"), (b"\x1f\x8b", "gzip-compressed"),
               (b"\x89HDF", "an HDF5 file (Keras/h5py)"), (b"{", "JSON text"),
               (b"[", "JSON text"))


def _check_container(path: str) -> None:
    """A file torch.save can have written starts as a zip (its default format) or a pickle
    (the legacy one); anything else is named for what it is, not called a foreign pickle."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80"):
        return
    what = next((name for sig, name in _SIGNATURES if head.startswith(sig)), None)
    if what is None:
        what = "empty" if not head else "text" if head.isascii() else "not a zip or a pickle"
    raise UserError(f"{path}: not a PyTorch checkpoint (it is {what}); expected a file written "
                    "by torch.save (.pth)")


def _corrupt(path: str, exc: BaseException) -> UserError:
    detail = (str(exc).splitlines() or [""])[0].split(". ")[0][:160]
    return UserError(f"{path}: cannot be read as a PyTorch checkpoint, expected a file written "
                     f"by torch.save (truncated or corrupt? {type(exc).__name__}: {detail})")


def _from_pth(path: str, allow_unsafe_pickle: bool = False
              ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    obj = safe_load(path, allow_unsafe_pickle)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        return obj["state_dict"], dict(obj.get("meta") or {})
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj, {}
    raise UserError(f"{path}: expected a state dict or {{'state_dict': ..., 'meta': ...}}")


def _resolve_dir(path: str) -> str:
    """A checkpoint root holding ``latest`` -> the tag directory it names."""
    latest = os.path.join(path, "latest")
    if os.path.isfile(latest) and not os.path.isfile(os.path.join(path, META)):
        with open(latest) as f:
            tag = f.read().strip()
        target = os.path.join(path, tag)
        if not tag or not os.path.isdir(target):
            raise UserError(f"{latest}: names checkpoint {tag!r}, which does not exist; expected "
                            "the tag of a checkpoint directory next to it")
        return target
    return path


def _from_deepspeed_dir(path: str, ours: bool, allow_unsafe_pickle: bool
                        ) -> dict[str, torch.Tensor]:
    zero_files = glob.glob(os.path.join(path, "*zero_pp_rank_*optim_states.pt"))
    if zero_files:
        if not (ours or allow_unsafe_pickle):
            # DeepSpeed reads its ZeRO files with a full unpickler
            raise UserError(f"{path}: a DeepSpeed ZeRO checkpoint without {META} (not written by "
                            f"ocr_ds), whose files need a full unpickler; pass {UNSAFE_FLAG} to "
                            "load it anyway, only for files you trust")
        from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

        root, tag = os.path.split(os.path.normpath(path))
        try:
            # its tqdm bars ("Loading checkpoint shards") would be stderr noise on every rank
            with contextlib.redirect_stderr(io.StringIO()):
                return get_fp32_state_dict_from_zero_checkpoint(root or ".", tag=tag)
        except (OSError, ValueError, KeyError, RuntimeError, pickle.UnpicklingError) as exc:
            raise _corrupt(path, exc) from None
    model_file = os.path.join(path, "mp_rank_00_model_states.pt")
    if not os.path.isfile(model_file):
        raise UserError(f"{path}: not a checkpoint directory (expected model.pth, "
                        "mp_rank_00_model_states.pt or ZeRO files in it, or a 'latest' file "
                        "naming one)")
    state = safe_load(model_file, allow_unsafe_pickle)
    if not isinstance(state, dict) or not isinstance(state.get("module"), dict):
        raise UserError(f"{model_file}: expected DeepSpeed model states with a 'module' state dict")
    return state["module"]


def load_checkpoint_any(path: str, allow_unsafe_pickle: bool = False
                        ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights and metadata from a ``.pth`` file or a checkpoint directory.

    ``allow_unsafe_pickle``: load a file that is not weights-only (see the module docstring).
    """
    if not os.path.exists(path):
        raise UserError(f"checkpoint {path!r} does not exist")
    if os.path.isfile(path):
        return _from_pth(path, allow_unsafe_pickle)
    path = _resolve_dir(path)
    if os.path.isfile(os.path.join(path, "model.pth")):
        return _from_pth(os.path.join(path, "model.pth"), allow_unsafe_pickle)
    meta: dict[str, Any] = {}
    ours = os.path.isfile(os.path.join(path, META))
    if ours:
        try:
            with open(os.path.join(path, META)) as f:
                meta = json.load(f)
        except (OSError, ValueError) as exc:
            raise UserError(f"{os.path.join(path, META)}: expected JSON metadata ({exc})") from None
    state = _from_deepspeed_dir(path, ours, allow_unsafe_pickle)
    state = {k: (v.float() if v.is_floating_point() else v) for k, v in state.items()}
    return state, meta

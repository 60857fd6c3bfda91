"""Output paths checked before anything is written: a work dir, ``checkpoint_config.out_dir``,
``test.py --out`` / ``--show-dir`` / ``--tmpdir``.

"Can it be created" is answered by trying: a probe directory is made (and removed at once) in
the nearest existing ancestor, since permission bits say little for root, read-only mounts or
``/proc``. What already exists must be a directory (or, for a file path, a file).
"""
from __future__ import annotations

import os
import tempfile
from typing import Any

from ocr_ds.errors import UserError


def _nearest_existing(path: str) -> str:
    probe = path
    while not os.path.lexists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe


def _probe_writable(directory: str, path: str, key: str) -> None:
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".ocr_ds_probe_", dir=directory))
    except OSError as exc:
        raise UserError(f"{key}: cannot create {path!r} ({directory}: "
                        f"{exc.strerror or type(exc).__name__}); expected a path in a writable "
                        "directory") from None


def check_dir_creatable(path: Any, key: str) -> None:
    """``path`` is a directory, or can be made one (a :class:`UserError` at ``key`` if not)."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise UserError(f"{key}: expected a directory path (got {path!r})")
    full = os.path.abspath(os.fspath(path))
    existing = _nearest_existing(full)
    if not os.path.isdir(existing):
        what = "is not a directory" if existing != full else "exists and is not a directory"
        raise UserError(f"{key}: cannot create {os.fspath(path)!r}: {existing} {what}")
    _probe_writable(existing, os.fspath(path), key)


def check_file_creatable(path: Any, key: str) -> None:
    """``path`` can be written as a file: its directory exists or can be made, and it is not a
    directory itself."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise UserError(f"{key}: expected a file path (got {path!r})")
    full = os.path.abspath(os.fspath(path))
    if os.path.isdir(full):
        raise UserError(f"{key}: {os.fspath(path)!r} is a directory; expected a file path")
    check_dir_creatable(os.path.dirname(full), key)

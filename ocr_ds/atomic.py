"""Write a file so readers see the old one or the whole new one, never half of it.

A temp file next to the target, fsync, ``os.replace``; unlike ``tempfile`` the file gets the
usual permissions from the umask. Used for configs, checkpoint metadata and ``latest``.
"""
from __future__ import annotations

import os
from typing import Any, Callable


def atomic_write(path: str, data: bytes | str) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically."""
    def write(tmp: str) -> None:
        mode, enc = ("wb", None) if isinstance(data, bytes) else ("w", "utf-8")
        with open(tmp, mode, encoding=enc) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    atomic_save(path, write)


def atomic_save(path: str, write: Callable[[str], Any]) -> None:
    """Call ``write(tmp_path)`` and move the result over ``path``; no temp file is left behind."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)

"""Reading file bytes through a small, explicit table of storage backends (mmcv's ``FileClient``).

Image loaders read through ``FileClient(backend=..., **args)``, never ``open`` directly, so a
config can point them elsewhere with ``file_client_args`` (and ``--mc-config`` can inject a cache
later). Backends:

* ``'disk'``: ``get(path)`` reads the file.
* ``'lmdb'``: ``get(key)`` reads value ``key`` of the lmdb environment at ``db_path``.
* ``'memcached'``: ``get(path)`` reads a file through a memcached cache (read-through: a miss
  reads the disk and stores the bytes); see :class:`ocr_ds.memcached_backend.MemcachedBackend`.

A missing file or key raises :class:`FileNotFoundError` in every backend, so callers handle one
exception. lmdb environments and memcached connections, which cannot cross a ``fork``, are kept
in tables per process (never in the backend objects, so those pickle freely), opened on first
read and opened afresh in a child process.
"""
from __future__ import annotations

import os
from typing import Any

from ocr_ds.errors import UserError, unknown_name
from ocr_ds.memcached_backend import MemcachedBackend


class DiskBackend:
    """Plain files on a local (or mounted) file system."""

    def __init__(self, **kwargs: Any):
        pass  # mmcv's disk backend takes no arguments; extra ones are ignored as mmcv does

    def get(self, filepath: str | os.PathLike) -> bytes:
        with open(filepath, "rb") as f:
            return f.read()

    def get_text(self, filepath: str | os.PathLike, encoding: str = "utf-8") -> str:
        with open(filepath, encoding=encoding) as f:
            return f.read()


# One environment per lmdb directory and process: py-lmdb refuses a second open of the same
# files in one process, and LMDB forbids using an environment inherited through fork.
_LMDB_ENVS: dict[str, tuple[Any, int]] = {}  # real path -> (environment, pid that opened it)


def lmdb_environment(path: str | os.PathLike, **open_args: Any) -> Any:
    """This process's read-only environment of the lmdb at ``path`` (opened on first use).

    An environment inherited from a parent process is closed in the child (its own copy of the
    handle) and opened afresh. The first caller's ``open_args`` win.
    """
    import lmdb

    key = os.path.realpath(path)
    entry = _LMDB_ENVS.get(key)
    if entry is not None:
        env, pid = entry
        if pid == os.getpid():
            return env
        del _LMDB_ENVS[key]
        env.close()
    if not os.path.isdir(key):
        raise FileNotFoundError(f"lmdb environment not found: {path}")
    args = dict(readonly=True, lock=False, readahead=False, meminit=False, max_readers=126)
    args.update(open_args)
    env = lmdb.open(key, subdir=True, **args)
    _LMDB_ENVS[key] = (env, os.getpid())
    return env


def close_lmdb_environment(path: str | os.PathLike) -> None:
    """Close this process's environment of ``path``, if open."""
    entry = _LMDB_ENVS.pop(os.path.realpath(path), None)
    if entry is not None and entry[1] == os.getpid():
        entry[0].close()


def open_lmdb_environments() -> set[str]:
    """Real paths of the lmdb environments this process has open."""
    return {path for path, (_, pid) in _LMDB_ENVS.items() if pid == os.getpid()}


def lmdb_read_once(path: str | os.PathLike, keys: list[bytes]) -> list[bytes | None]:
    """Read ``keys`` without leaving an environment open (unless this process had one)."""
    keep = _LMDB_ENVS.get(os.path.realpath(path), (None, -1))[1] == os.getpid()
    env = lmdb_environment(path)
    try:
        with env.begin(write=False) as txn:
            return [None if (v := txn.get(k)) is None else bytes(v) for k in keys]
    finally:
        if not keep:
            close_lmdb_environment(path)


class LmdbBackend:
    """Values of one lmdb environment, addressed by key (e.g. ``image-000000001``).

    Args:
        db_path: Directory of the lmdb environment.
        readonly, lock, readahead: Passed to ``lmdb.open``. Defaults to True, False, False
            (mmcv's defaults: many readers, no lock file writes, no OS read-ahead).
    """

    def __init__(self, db_path: str | os.PathLike, readonly: bool = True, lock: bool = False,
                 readahead: bool = False, **kwargs: Any):
        self.db_path = str(db_path)
        self._open_args = dict(readonly=readonly, lock=lock, readahead=readahead, **kwargs)

    def get(self, filepath: str | os.PathLike) -> bytes:
        key = str(filepath)
        env = lmdb_environment(self.db_path, **self._open_args)
        with env.begin(write=False) as txn:
            value = txn.get(key.encode("utf-8"))
        if value is None:
            raise FileNotFoundError(f"{self.db_path}: no key {key!r}")
        return bytes(value)

    def get_text(self, filepath: str | os.PathLike, encoding: str = "utf-8") -> str:
        return self.get(filepath).decode(encoding)

    def close(self) -> None:
        close_lmdb_environment(self.db_path)


# The backends a config can name in ``file_client_args=dict(backend=...)``.
BACKENDS: dict[str, type] = {
    "disk": DiskBackend,
    "lmdb": LmdbBackend,
    "memcached": MemcachedBackend,
}


class FileClient:
    """``FileClient(backend='disk', **backend_args)``: ``get(path) -> bytes`` via one backend."""

    def __init__(self, backend: str = "disk", **kwargs: Any):
        if backend not in BACKENDS:
            raise unknown_name("file_client_args.backend", backend, BACKENDS)
        try:
            self.client = BACKENDS[backend](**kwargs)
        except TypeError as exc:
            raise UserError(f"file_client_args: backend {backend!r}: {exc}") from None
        self.backend = backend

    def get(self, filepath: str | os.PathLike) -> bytes:
        return self.client.get(filepath)

    def get_text(self, filepath: str | os.PathLike, encoding: str = "utf-8") -> str:
        return self.client.get_text(filepath, encoding=encoding)


def read_text(path: str | os.PathLike, what: str = "text file") -> str:
    """The UTF-8 text of a local file a user gave (a config, an annotation file), a leading
    byte-order mark dropped (editors on Windows write one; mmcv accepts it in configs). Any other
    encoding is a one-line :class:`UserError` saying where decoding failed and what it looks like.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        looks = ""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            looks = "; it starts with a UTF-16 byte-order mark"
        line = data[:exc.start].count(b"\n") + 1
        raise UserError(f"{os.fspath(path)}: not UTF-8 (byte 0x{data[exc.start]:02x} at line "
                        f"{line}{looks}); expected a UTF-8 {what}: re-save it as UTF-8") from None

"""The lmdb writer of :mod:`ocr_ds.tools.to_lmdb` and the data converters: written into a hidden
temporary directory beside its destination, committed in batches (the map size doubling when
lmdb reports it full) and renamed into place only when complete, so a failure, bad input or
Ctrl-C leaves nothing behind."""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Sequence

from ocr_ds.errors import UserError

DEFAULT_BATCH = 1000
INITIAL_MAP_SIZE = 64 << 20  # doubled on lmdb.MapFullError; the file only holds what is used


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class LmdbWriter:
    """Write an lmdb into a temporary directory beside ``out``; move it to ``out`` when done.

    Use as a context manager: leaving the block normally commits and renames, an exception
    (including ``KeyboardInterrupt``) removes the temporary directory. ``add(*items)`` adds one
    sample's ``(key, value)`` pairs; a write transaction is committed every ``batch_size``
    samples, and the map size doubles when lmdb says it is full.

    Args:
        out: Output directory (the lmdb environment).
        overwrite: Replace an existing non-empty ``out``. Defaults to False.
        batch_size: Samples per write transaction. Defaults to 1000.
        map_size: Initial map size in bytes. Defaults to 64 MiB.
        inputs: Paths that must not lie inside ``out`` (they would be deleted by overwrite).
    """

    def __init__(self, out: str, overwrite: bool = False, batch_size: int = DEFAULT_BATCH,
                 map_size: int = INITIAL_MAP_SIZE, inputs: Sequence[str] = ()):
        if batch_size < 1:
            raise UserError(f"--batch-size: expected an integer >= 1 (got {batch_size})")
        self.out = os.path.abspath(out)
        if os.path.lexists(self.out):
            if not os.path.isdir(self.out):
                raise UserError(f"output {out} exists and is not a directory")
            if os.listdir(self.out) and not overwrite:
                raise UserError(f"output {out} exists and is not empty; pass --overwrite to "
                                "replace it")
        for path in inputs:
            if path and _inside(path, self.out):
                raise UserError(f"output {out} holds the input {path}; choose another output")
        self.batch_size = batch_size
        self.map_size = map_size
        self.samples = 0
        self._pending: list[tuple[bytes, bytes]] = []
        self._tmp: str | None = None
        self._env: Any = None

    def __enter__(self) -> LmdbWriter:
        import lmdb

        parent = os.path.dirname(self.out)
        os.makedirs(parent, exist_ok=True)
        self._tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(self.out)}.", suffix=".tmp",
                                     dir=parent)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o777 & ~umask)  # mkdtemp's 0700 would outlive the rename
        self._env = lmdb.open(self._tmp, map_size=self.map_size, subdir=True, meminit=False)
        return self

    def add(self, *items: tuple[bytes, bytes]) -> None:
        """Add one sample's key/value pairs (committed with its batch)."""
        self._pending.extend(items)
        self.samples += 1
        if self.samples % self.batch_size == 0:
            self.flush()

    def put(self, key: bytes, value: bytes) -> None:
        """Add a key that is not a sample (e.g. ``num-samples``); committed with the next batch."""
        self._pending.append((key, value))

    def flush(self) -> None:
        """Commit what was added since the last commit, growing the map when it is full."""
        import lmdb

        while self._pending:
            try:
                with self._env.begin(write=True) as txn:
                    for key, value in self._pending:
                        txn.put(key, value)
                self._pending = []
            except lmdb.MapFullError:  # the transaction was aborted; retry with twice the map
                self.map_size = self._env.info()["map_size"] * 2
                self._env.set_mapsize(self.map_size)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None:
                self.flush()
                self._env.sync(True)
            self._env.close()
            if exc_type is None:
                _replace_dir(self._tmp, self.out)  # type: ignore[arg-type]
        finally:
            if self._tmp and os.path.isdir(self._tmp):
                shutil.rmtree(self._tmp, ignore_errors=True)


def _replace_dir(new: str, path: str) -> None:
    """Put directory ``new`` at ``path``; an existing ``path`` is removed only after the swap."""
    old = None
    if os.path.lexists(path):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", suffix=".old",
                               dir=os.path.dirname(path))
        os.rmdir(old)
        os.rename(path, old)
    try:
        os.rename(new, path)
    except BaseException:
        if old is not None:
            os.rename(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

"""DeepSpeed's JIT-built ops: built at set-up into this virtualenv, never rebuilt by another
checkout, never a silent wait on a dead build.

DeepSpeed compiles a few small C++/CUDA ops the first time a process needs one — on the CPU
its shared-memory all-reduce ``deepspeed_shm_comm`` (every process group), on CUDA
``fused_adam`` (Adam/AdamW) — through torch's ``cpp_extension.load``, into
``$TORCH_EXTENSIONS_DIR/<op>``. Three traps, and what this module does about each:

* torch's default directory, ``~/.cache/torch_extensions/py311_cpu``, is shared by every
  virtualenv of the user; two checkouts have their DeepSpeed sources at different paths, so each
  run rebuilds the op of the other (~35 s here). :func:`use_venv_dir` points
  ``TORCH_EXTENSIONS_DIR`` at ``<venv>/torch_extensions`` when it is unset (an explicit value
  wins);
* the first training run paid for the build: ``make setup`` runs ``python -m ocr_ds.engine.ops
  build``, which builds them with the same interpreter, flags and ``ninja`` a rank uses (a
  different ninja hashes build commands differently and rebuilds: :func:`prefer_interpreter_tools`);
* a build killed midway (Ctrl-C, an OOM kill, a test timeout) leaves ``<dir>/<op>/lock``, on which
  torch's ``FileBaton`` then waits forever, without a word. A live builder keeps that file open
  (the baton holds its descriptor until it releases it), so a lock that no process has open is
  stale: :func:`clear_stale_lock` removes it and says so in one line. Where it cannot tell (the
  lock belongs to another user whose processes it cannot see) it stops with one line giving the
  command that clears it. A wait on a live build is announced too.
"""
from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Callable

from ocr_ds.errors import UserError

#: DeepSpeed op builders a training process of ours may load, per accelerator
OPS = {"cpu": ("ShareMemCommBuilder",), "cuda": ("FusedAdamBuilder",)}
#: those every process group loads (the others only when a config asks for them)
ALWAYS = ("ShareMemCommBuilder",)
LOCK = "lock"
# a lock still there after this long, held by a live builder, is announced (never a silent wait)
ANNOUNCE_WAIT_S = 5.0


def in_venv() -> bool:
    return sys.prefix != getattr(sys, "base_prefix", sys.prefix)


def default_dir() -> str | None:
    """``<venv>/torch_extensions`` for this interpreter's virtualenv (None outside one)."""
    return os.path.join(sys.prefix, "torch_extensions") if in_venv() else None


def use_venv_dir() -> str | None:
    """Set ``TORCH_EXTENSIONS_DIR`` to this venv's directory unless set; returns the one in use
    (None: torch's shared default, outside a virtualenv)."""
    if not os.environ.get("TORCH_EXTENSIONS_DIR") and default_dir():
        os.environ["TORCH_EXTENSIONS_DIR"] = default_dir()
    return os.environ.get("TORCH_EXTENSIONS_DIR") or None


def prefer_interpreter_tools() -> None:
    """Put the interpreter's bin dir first on PATH when it holds a ``ninja``, as an activated
    venv would. Torch builds with the first ninja on PATH, and its .ninja_log keeps a hash of
    each build command: ninja 1.11 (/usr/bin/ninja on Debian 12) and the venv's newer ninja hash
    differently, so a venv python started without activating the venv would rebuild the op
    (~60 s) with the system ninja, and the next activated run rebuild it back."""
    bindir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if os.access(os.path.join(bindir, "ninja"), os.X_OK) and path.split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + (os.pathsep + path if path else "")


def build_dir(op_name: str) -> str:
    """Where torch builds ``op_name`` (as ``cpp_extension._get_build_directory`` decides)."""
    from torch.utils.cpp_extension import _get_build_directory

    return _get_build_directory(op_name, verbose=False)


# -- stale locks ---------------------------------------------------------------------------------
def lock_holders(lock: str) -> list[int] | None:
    """PIDs of the processes that have ``lock`` open; None when some could not be looked at
    (another user's processes, without root) and the lock is not ours."""
    target = os.path.realpath(lock)
    try:
        owner = os.stat(lock).st_uid
    except FileNotFoundError:
        return []
    holders, blind = [], False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fd_dir = f"/proc/{entry}/fd"
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue  # exited meanwhile
        except PermissionError:
            # only a process of the lock's owner (or root) can have created and hold it
            try:
                blind |= os.stat(f"/proc/{entry}").st_uid in (owner, 0)
            except OSError:
                pass
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    holders.append(int(entry))
                    break
            except OSError:
                continue
    if holders or not blind:
        return holders
    return None


def clear_stale_lock(lock: str, log: Callable[[str], None]) -> bool:
    """Remove ``lock`` if no process holds it (announced in one line); True if it is gone.

    Raises :class:`UserError` when it cannot tell, with the command that clears it."""
    if not os.path.exists(lock):
        return True
    holders = lock_holders(lock)
    if holders is None:
        raise UserError(f"DeepSpeed op build lock {lock} is there and no visible process holds it "
                        "(another user's build, or one that was killed?); if no build is running, "
                        f"clear it with: rm -f {lock}")
    if holders:
        return False
    # look twice: a builder closes the file a moment before it removes it
    try:
        first = os.stat(lock)
        time.sleep(0.2)
        again = os.stat(lock)
        if (again.st_ino, again.st_mtime_ns) != (first.st_ino, first.st_mtime_ns) or lock_holders(lock):
            return False
        age = time.time() - again.st_mtime
        os.remove(lock)
    except FileNotFoundError:
        return True  # released meanwhile
    log(f"removed a stale DeepSpeed op build lock {lock} (left {age:.0f} s ago by a build that "
        "was killed; no process holds it); the op is rebuilt if it is incomplete")
    return True


class _LockWatch:
    """While a load runs: announce a wait on a live builder once, and clear the lock if that
    builder dies (torch's own wait would then never end)."""

    def __init__(self, lock: str, log: Callable[[str], None]):
        self.lock, self.log = lock, log
        self.cleared = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ocr_ds-op-lock-watch", daemon=True)

    def __enter__(self) -> "_LockWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        start, announced = time.monotonic(), False
        while not self._stop.wait(0.5):
            holders = lock_holders(self.lock)
            if holders is None or os.getpid() in (holders or []):
                continue  # we are the builder, or we cannot tell (reported before the load)
            if not holders and os.path.exists(self.lock):
                try:
                    self.cleared |= clear_stale_lock(self.lock, self.log)
                except UserError:
                    pass
            elif holders and not announced and time.monotonic() - start > ANNOUNCE_WAIT_S:
                self.log(f"waiting for process {', '.join(map(str, holders))}, which is building a "
                         f"DeepSpeed op in {os.path.dirname(self.lock)}")
                announced = True


def _builder(builder_name: str) -> object | None:
    from deepspeed.accelerator import get_accelerator

    builder = get_accelerator().create_op_builder(builder_name)
    if builder is None or not builder.is_compatible(verbose=False):
        return None
    return builder


def load(builder_name: str, log: Callable[[str], None]) -> object | None:
    """Load (building if needed) one DeepSpeed op, clearing a stale lock before and during the
    load. None when the op does not apply to this machine."""
    builder = _builder(builder_name)
    if builder is None:
        return None
    lock = os.path.join(build_dir(builder.name), LOCK)
    clear_stale_lock(lock, log)
    for attempt in range(2):
        with _LockWatch(lock, log) as watch:
            try:
                return builder.load(verbose=False)
            except ImportError:
                # the builder we waited for died midway and its output is incomplete: build it
                if attempt or not watch.cleared:
                    raise
    return None


def prepare(log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True)) -> None:
    """Everything a process does before DeepSpeed may JIT-build: this venv's directory, this
    interpreter's ninja, and this accelerator's ops loaded with stale locks cleared (DeepSpeed
    then finds them loaded)."""
    use_venv_dir()
    prefer_interpreter_tools()
    from deepspeed.accelerator import get_accelerator

    for name in OPS.get(get_accelerator().device_name(), ()):
        if name in ALWAYS:
            load(name, log)
        elif (builder := _builder(name)) is not None:  # DeepSpeed loads it if a config needs it
            clear_stale_lock(os.path.join(build_dir(builder.name), LOCK), log)


def build_all(log: Callable[[str], None]) -> int:
    """``make setup``: build every op of :data:`OPS` for this machine's accelerator; non-zero
    if one every run needs failed."""
    from deepspeed.accelerator import get_accelerator

    use_venv_dir()
    prefer_interpreter_tools()
    accel = get_accelerator().device_name()
    where = os.environ.get("TORCH_EXTENSIONS_DIR") or "torch's default directory"
    failed = 0
    for name in OPS.get(accel, ()):
        builder = _builder(name)
        if builder is None:
            log(f"ops: {name} does not apply to this machine ({accel})")
            continue
        start = time.monotonic()
        try:
            load(name, log)
        except (RuntimeError, ImportError, OSError) as exc:  # e.g. no nvcc for fused_adam
            failed += name in ALWAYS  # the others only matter to configs that use them
            log(f"ops: {builder.name}: could not be built here "
                f"({(str(exc).splitlines() or [''])[0][:200]}); DeepSpeed tries again at the first "
                "run that needs it")
            continue
        log(f"ops: {builder.name} ready ({time.monotonic() - start:.1f} s) in {where}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ocr_ds.engine.ops", description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["build", "dir"],
                   help="build: build this accelerator's ops now; dir: print the build directory")
    a = p.parse_args(argv)
    if a.action == "dir":
        print(use_venv_dir() or "")
        return 0
    return build_all(lambda m: print(m, flush=True))


if __name__ == "__main__":
    from ocr_ds.errors import run_cli

    run_cli(main)

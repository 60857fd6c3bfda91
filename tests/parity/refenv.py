"""The MMOCR 0.6.3 reference for parity tests: build its venv once, run its code on request.

:func:`ensure_venv` builds the venv of ``build_ref_venv.sh`` once per machine, outside the
checkout (``$OCR_DS_MMOCR_REF``, default ``~/.cache/ocr_ds/mmocr-0.6.3-<recipe hash>``, so a
changed recipe builds a new one), under a file lock so parallel sessions build it once.
:class:`Reference` keeps one ``ref_server.py`` process running in it and calls functions of
"ref side" modules there (``call(path, func, **kwargs)``); every call has a timeout, and a
reference that dies or hangs fails the test with the server's stderr, never waits forever.
"""
from __future__ import annotations

import fcntl
import hashlib
import io
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
RECIPE = [HERE / "build_ref_venv.sh", HERE / "ref_stubs.py", HERE / "mmcv_ops" / "pybind.cpp",
          HERE / "mmcv_ops" / "build_mmcv_ops.py"]
BUILD_TIMEOUT = 1200
CALL_TIMEOUT = 600


class Unavailable(Exception):
    """The reference cannot be built here because PyPI cannot be reached (tests skip)."""


def venv_path() -> Path:
    if os.environ.get("OCR_DS_MMOCR_REF"):
        return Path(os.environ["OCR_DS_MMOCR_REF"])
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in RECIPE)).hexdigest()[:10]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "ocr_ds" / f"mmocr-0.6.3-{digest}"


def _pypi_reachable() -> bool:
    """Can pip fetch from the configured index at all? (``pip download`` of a tiny package)"""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            ["python3", "-m", "pip", "download", "-q", "--no-deps", "--timeout", "15",
             "--disable-pip-version-check", "-d", tmp, "mmocr==0.6.3"],
            capture_output=True, timeout=120)
    return proc.returncode == 0


def ensure_venv() -> Path:
    """The reference venv's directory, built first if needed (minutes, once per machine)."""
    dest = venv_path()
    if (dest / ".complete").exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{dest}.lock", "w") as lock:
        deadline = time.monotonic() + BUILD_TIMEOUT
        while True:          # another session may be building it: wait, but not forever
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"waited {BUILD_TIMEOUT} s for another build of {dest} "
                                       f"(lock {dest}.lock)")
                time.sleep(2)
        if (dest / ".complete").exists():
            return dest
        shutil.rmtree(dest, ignore_errors=True)           # an interrupted build
        log = Path(f"{dest}.build.log")
        with open(log, "w") as out:
            try:
                proc = subprocess.run(["bash", str(HERE / "build_ref_venv.sh"), str(dest)],
                                      stdout=out, stderr=subprocess.STDOUT,
                                      timeout=BUILD_TIMEOUT)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
        if code != 0:
            shutil.rmtree(dest, ignore_errors=True)
            if not _pypi_reachable():
                raise Unavailable("MMOCR 0.6.3 reference venv not built: PyPI cannot be reached "
                                  f"(build log: {log})")
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"building the MMOCR 0.6.3 reference venv failed ({code}); "
                               f"log {log}:\n{tail}")
    return dest


def to_wire(value: Any) -> Any:
    """numpy -> torch / Python numbers, recursively (see ref_server.py)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_wire(v) for v in value)
    return value


class ReferenceError_(AssertionError):
    """MMOCR's side raised: the traceback from the reference venv."""


class Reference:
    """One long-lived ``ref_server.py`` in the reference venv."""

    def __init__(self, venv: Path):
        self.venv = venv
        self.stderr = tempfile.NamedTemporaryFile("w+b", prefix="mmocr_ref_", suffix=".log")
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore",
                   PYTHONDONTWRITEBYTECODE="1", CUDA_VISIBLE_DEVICES="")
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen([str(venv / "bin" / "python"), str(HERE / "ref_server.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, cwd=tempfile.gettempdir())

    def _log_tail(self) -> str:
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-4000:]

    def _read(self, n: int, deadline: float) -> bytes:
        data = bytearray()      # appending to bytes copies it all each time: minutes for 50 MB
        fd = self.proc.stdout.fileno()
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise AssertionError(f"the MMOCR reference did not answer within "
                                     f"{CALL_TIMEOUT} s; its stderr:\n{self._log_tail()}")
            ready, _, _ = select.select([fd], [], [], min(left, 5.0))
            if ready:
                chunk = os.read(fd, n - len(data))
                if not chunk:
                    raise AssertionError(f"the MMOCR reference exited "
                                         f"({self.proc.poll()}); its stderr:\n{self._log_tail()}")
                data += chunk
        return bytes(data)

    def call(self, file: str | os.PathLike, func: str, timeout: float = CALL_TIMEOUT,
             **kwargs: Any) -> Any:
        """Run ``func(**kwargs)`` of the ref-side module ``file`` in MMOCR's venv."""
        if self.proc.poll() is not None:
            raise AssertionError(f"the MMOCR reference is not running; its stderr:\n"
                                 f"{self._log_tail()}")
        buf = io.BytesIO()
        torch.save({"file": str(Path(file).resolve()), "func": func,
                    "kwargs": to_wire(kwargs)}, buf)
        self.proc.stdin.write(struct.pack("<Q", buf.tell()) + buf.getvalue())
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        size = struct.unpack("<Q", self._read(8, deadline))[0]
        reply = torch.load(io.BytesIO(self._read(size, deadline)), weights_only=True)
        if "error" in reply:
            raise ReferenceError_(f"MMOCR 0.6.3 side {Path(file).name}:{func} raised:\n"
                                  f"{reply['error']}")
        return reply["ok"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

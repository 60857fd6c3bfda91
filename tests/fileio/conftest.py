"""A real memcached server for the cache tests: ``memcached -l 127.0.0.1 -p PORT -U 0``, started
as a subprocess (never the system service) and stopped after the test.

Without the binary the tests are skipped, except under CI (env ``CI`` set), where they fail:
``tests/cluster/install.sh`` installs the Debian package ``memcached``.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from ocr_ds.engine.dist import free_port

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "engine"))

MISSING = ("memcached is not installed (Debian package memcached; tests/cluster/install.sh "
           "installs it)")


class Memcached:
    """One memcached process on 127.0.0.1; ``stats()`` reads the server's own counters."""

    def __init__(self, binary: str, port: int | None = None, args: tuple[str, ...] = ()):
        self.binary, self.args = binary, list(args)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Memcached":
        cmd = [self.binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", *self.args]
        if os.geteuid() == 0:
            cmd += ["-u", pwd.getpwuid(0).pw_name]  # memcached refuses root without -u
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{' '.join(cmd)} exited {self.proc.returncode}: "
                                   f"{self.proc.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stats(self) -> dict[str, int]:
        """``stats`` over the text protocol: the numeric counters (get_hits, cmd_set, ...)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"stats\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        out = {}
        for line in data.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "STAT" and parts[2].isdigit():
                out[parts[1]] = int(parts[2])
        return out


@pytest.fixture
def memcached():
    """Factory: ``memcached(args=('-I', '2m'))`` starts a server; all are killed afterwards."""
    binary = shutil.which("memcached") or next(
        (p for p in ("/usr/bin/memcached", "/usr/local/bin/memcached") if os.access(p, os.X_OK)),
        None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    servers: list[Memcached] = []

    def start(args: tuple[str, ...] = (), port: int | None = None) -> Memcached:
        server = Memcached(binary, port, args).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.kill()

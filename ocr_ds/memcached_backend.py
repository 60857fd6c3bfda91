"""The ``'memcached'`` file backend (:class:`MemcachedBackend`): image files read through a
memcached cache in front of the disk, an outage falling back to the disk (see
:mod:`ocr_ds.fileio`, whose backend table names it)."""
from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import multiprocessing
import os
import time
from typing import Any, Iterator

from pymemcache.client.hash import HashClient
from pymemcache.exceptions import (MemcacheClientError, MemcacheError, MemcacheServerError,
                                   MemcacheUnexpectedCloseError)

from ocr_ds.errors import UserError, bad_value

logger = logging.getLogger("ocr_ds")

MC_DEFAULT_ITEM_SIZE = 1024 * 1024  # memcached's default item size limit (-I 1m)
MC_ITEM_MARGIN = 512  # room for the key and memcached's item header inside max_item_size
MC_KEY_DIGEST_CHARS = 64  # sha256 hex digest
MC_MAX_KEY = 250  # memcached's key length limit, in bytes


def _parse_server(spec: Any) -> tuple[str, int] | None:
    """``'host:port'`` or ``'[v6addr]:port'`` -> ``(host, port)``; None when malformed."""
    if not isinstance(spec, str) or ":" not in spec or any(c.isspace() for c in spec):
        return None
    host, _, port = spec.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host, int(port)


class _CacheState:
    """The state of one memcached configuration, shared by a process and its forked children.

    ``shared`` lives in shared memory, so forked DataLoader workers (re-forked every epoch) and
    their parent see one outage: ``[down_since, outage_count, refused_warned]``. ``down_since``
    is 0.0 while the cache is in use, else the time of the last failure (or retry);
    ``outage_count`` counts outages, so a process notices that its connection predates one.
    The pymemcache client itself is per process (``client``, ``pid``) and never pickled.
    """

    def __init__(self) -> None:
        self.lock = multiprocessing.Lock()
        self.shared = multiprocessing.RawArray("d", 3)
        self.client: Any = None
        self.pid = -1
        self.outage = 0.0  # outage_count when this process's client was made

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        # bounded: a worker killed while holding the lock must not stop the others reading
        got = self.lock.acquire(timeout=5.0)
        try:
            yield
        finally:
            if got:
                self.lock.release()


# One state per memcached configuration (servers and timeouts), created by the first backend
# built for it. Backends are built when the pipeline is, in the main process before the
# DataLoader forks its workers, so the workers inherit the state (and its shared memory).
_MC_STATES: dict[tuple, _CacheState] = {}


def _mc_state(config: tuple) -> _CacheState:
    state = _MC_STATES.get(config)
    if state is None:
        state = _MC_STATES[config] = _CacheState()
    return state


def _is_outage(exc: BaseException) -> bool:
    """Whether a pymemcache error means the cache is unusable (vs. one item refused)."""
    if isinstance(exc, (OSError, MemcacheUnexpectedCloseError)):
        return True  # refused, timed out, reset, or closed by the server
    # HashClient's "All servers seem to be down right now" is a plain MemcacheError
    return not isinstance(exc, (MemcacheServerError, MemcacheClientError))


class MemcachedBackend:
    """Files read through a memcached cache: a read-through cache in front of the disk.

    ``get(path)`` asks the cache for the file's bytes; on a miss it reads the file from disk and
    stores it, so the second epoch reads from memory. Keys are ``key_prefix`` + the sha256 hex
    digest of the absolute path (64 characters): safe for any path (spaces, non-ASCII, any
    length) within memcached's 250-byte, no-whitespace key rules. The cache does not notice a
    file changed on disk: after rewriting a data set, change ``key_prefix`` or flush the server.

    A file larger than ``max_item_size - 512`` bytes (room for the key and memcached's item
    header) is read from disk every time and never sent to the server. A server that refuses an
    item anyway (its ``-I`` is smaller than ``max_item_size``) costs one warning, and such items
    are read from disk.

    When the cache fails (server down at start, gone mid-training, timeouts), the reads fall
    back to the disk: one warning on the ``ocr_ds`` logger per outage, shared by a process and
    its forked DataLoader workers (rank 0's goes to the log; other ranks log only errors). The
    cache is then left alone for ``retry_interval`` seconds, after which one read tries it again
    (silently when it still fails; an INFO line when it is back). A missing file raises
    :class:`FileNotFoundError` as in the other backends.

    Args:
        servers: ``['host:port', ...]``; several servers share the keys (rendezvous hashing).
        key_prefix: Prepended to every key (printable ASCII, no spaces, at most 186 characters).
            Defaults to ``'ocr_ds:'``.
        max_item_size: The servers' item size limit in bytes (memcached ``-I``). Defaults to
            1 MiB, memcached's default.
        connect_timeout: Seconds to wait for a connection. Defaults to 1.0.
        timeout: Seconds to wait for a reply. Defaults to 2.0.
        expire: Seconds an item lives (0: until memcached evicts it, least recently used first;
            at most 30 days). Defaults to 0.
        retry_interval: Seconds without the cache after a failure before it is tried again;
            ``None``: never again in this run. Defaults to 60.
    """

    KEYS = ("servers", "key_prefix", "max_item_size", "connect_timeout", "timeout", "expire",
            "retry_interval")
    # mmcv's memcached backend wraps SenseTime's ``mc`` module and its two config files
    MMCV_KEYS = ("server_list_cfg", "client_cfg", "sys_path")

    def __init__(self, servers: Any = None, key_prefix: Any = "ocr_ds:",
                 max_item_size: Any = MC_DEFAULT_ITEM_SIZE, connect_timeout: Any = 1.0,
                 timeout: Any = 2.0, expire: Any = 0, retry_interval: Any = 60.0, **kwargs: Any):
        for name in kwargs:
            if name in self.MMCV_KEYS:
                raise UserError(f"file_client_args.{name}: mmcv's memcached backend (SenseTime's "
                                f"mc module) is not used here; give servers=['host:port', ...]")
            raise UserError(f"file_client_args: unknown key {name!r} for backend 'memcached'; "
                            f"expected: {', '.join(self.KEYS)}")
        parsed = [_parse_server(s) for s in servers] if isinstance(servers, (list, tuple)) else []
        if not parsed or None in parsed:
            raise bad_value("file_client_args.servers", servers, "a list of 'host:port' strings")
        if (not isinstance(key_prefix, str) or len(key_prefix) > MC_MAX_KEY - MC_KEY_DIGEST_CHARS
                or not all(33 <= ord(c) < 127 for c in key_prefix)):
            raise bad_value("file_client_args.key_prefix", key_prefix,
                            f"printable ASCII without spaces, at most "
                            f"{MC_MAX_KEY - MC_KEY_DIGEST_CHARS} characters")
        if not _is_int(max_item_size) or max_item_size < 2 * MC_ITEM_MARGIN:
            raise bad_value("file_client_args.max_item_size", max_item_size,
                            f"an integer number of bytes >= {2 * MC_ITEM_MARGIN}")
        for name, value in (("connect_timeout", connect_timeout), ("timeout", timeout)):
            if not _is_number(value) or value <= 0:
                raise bad_value(f"file_client_args.{name}", value, "a number of seconds > 0")
        if not _is_int(expire) or not 0 <= expire <= 30 * 24 * 3600:
            raise bad_value("file_client_args.expire", expire,
                            "an integer number of seconds in [0, 2592000] (0: no expiry)")
        if retry_interval is not None and (not _is_number(retry_interval) or retry_interval < 0):
            raise bad_value("file_client_args.retry_interval", retry_interval,
                            "a number of seconds >= 0, or None (never retry)")
        self.servers = [f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in parsed]
        self.key_prefix = key_prefix
        self.max_item_size = int(max_item_size)
        self.expire = int(expire)
        self.retry_interval = None if retry_interval is None else float(retry_interval)
        self._client_args = dict(connect_timeout=float(connect_timeout), timeout=float(timeout))
        self._config = (tuple(parsed), self._client_args["connect_timeout"],
                        self._client_args["timeout"])
        _mc_state(self._config)  # now, in the process that builds the pipeline (see _MC_STATES)

    def key(self, filepath: str | os.PathLike) -> str:
        """The memcached key of a file: prefix + sha256 of its absolute path."""
        path = os.fsencode(os.path.abspath(os.fspath(filepath)))
        return self.key_prefix + hashlib.sha256(path).hexdigest()

    def _where(self) -> str:
        return ", ".join(self.servers)

    def _open(self, state: _CacheState) -> tuple[Any, bool]:
        """This process's client, or None while the cache is off; and whether this is a retry."""
        retry = False
        with state.locked():
            down_since, outages = state.shared[0], state.shared[1]
            now = time.monotonic()
            if down_since:
                if self.retry_interval is None or now - down_since < self.retry_interval:
                    self._drop(state)
                    return None, False
                state.shared[0] = now  # this read retries; the others wait on
                retry = True
        if state.client is None or state.pid != os.getpid() or state.outage != outages:
            # after a fork the parent's client is dropped, not closed: its socket is the parent's
            state.client = HashClient([_parse_server(s) for s in self.servers],
                                      retry_attempts=0, **self._client_args)
            state.pid, state.outage = os.getpid(), outages
        return state.client, retry

    @staticmethod
    def _drop(state: _CacheState) -> None:
        if state.client is not None and state.pid == os.getpid():
            try:
                state.client.close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; it is gone
                pass
        state.client, state.pid = None, -1

    def _failed(self, state: _CacheState, exc: BaseException) -> None:
        with state.locked():
            first = not state.shared[0]
            state.shared[0] = time.monotonic()
            if first:
                state.shared[1] += 1
        self._drop(state)
        if first:
            retry = ("not trying it again in this run" if self.retry_interval is None
                     else f"trying it again every {self.retry_interval:g} s")
            why = str(exc) or ("connection closed" if isinstance(exc, MemcacheUnexpectedCloseError)
                               else "no details")
            logger.warning("memcached %s: unreachable (%s: %s); reading images from disk, %s",
                           self._where(), type(exc).__name__, why, retry)

    def _recovered(self, state: _CacheState) -> None:
        with state.locked():
            state.shared[0] = 0.0
        logger.info("memcached %s: reachable again; reading images through the cache",
                    self._where())

    def _refused(self, state: _CacheState, exc: BaseException, size: int) -> None:
        with state.locked():
            first = not state.shared[2]
            state.shared[2] = 1.0
        if first:
            logger.warning("memcached %s: refused to store a %d-byte file (%s); such files are "
                           "read from disk (is the servers' -I smaller than max_item_size=%d?)",
                           self._where(), size, exc, self.max_item_size)

    def get(self, filepath: str | os.PathLike) -> bytes:
        key = self.key(filepath)
        state = _mc_state(self._config)
        client, retry = self._open(state)
        if client is not None:
            try:
                value = client.get(key)
            except (OSError, MemcacheError) as exc:
                value = None  # a server error for this one key: read it from disk
                if _is_outage(exc):
                    self._failed(state, exc)
                    client = None
            if client is not None and retry:
                self._recovered(state)
            if value is not None:
                return value
        with open(filepath, "rb") as f:
            data = f.read()
        if client is not None and len(data) <= self.max_item_size - MC_ITEM_MARGIN:
            try:
                client.set(key, data, expire=self.expire, noreply=False)
            except (OSError, MemcacheError) as exc:
                if _is_outage(exc):
                    self._failed(state, exc)
                else:
                    self._refused(state, exc, len(data))
        return data

    def get_text(self, filepath: str | os.PathLike, encoding: str = "utf-8") -> str:
        return self.get(filepath).decode(encoding)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

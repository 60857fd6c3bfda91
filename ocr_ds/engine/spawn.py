"""``python ocr_ds/train.py cfg --gpus N`` (or ``--gpu-ids i j ...``): start N local ranks.

MMOCR 0.x accepted ``--gpus N`` without a launcher and then trained on one device (mmocr #816).
Here the parent process becomes a small launcher, like torchrun on one machine: it starts one
``train.py`` child per device with RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT set (and
CUDA_VISIBLE_DEVICES = the chosen devices on a GPU machine; on a machine without GPUs, N CPU
ranks), watches them, and when one fails stops the others, so a job either finishes on every
rank or ends with that rank's exit code — it never waits on a dead peer.

Stopping: SIGINT or SIGTERM to this process sends SIGTERM to every rank, which then finishes its
iteration, saves a checkpoint and exits with 75 (:mod:`ocr_ds.engine.stop`); the job exits 75
when all did. Other stop signals (``--stop-signal``) are passed on to the ranks as they are. A
rank also stops by itself if this process dies (``PR_SET_PDEATHSIG``, and the rank's launcher
watch).
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from typing import Mapping, Sequence

from ocr_ds.engine.dist import free_port, port_in_use
from ocr_ds.engine.launch import config_port, env_port
from ocr_ds.errors import UserError

TRAIN_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "train.py")
# how long ranks get after SIGTERM (to finish an iteration and save) before SIGKILL
TERM_GRACE_S = 25.0
EXIT_STOPPED = 75  # ocr_ds.engine.stop.EXIT_STOPPED (not imported: it would not change alone)


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _visible(ids: Sequence[int]) -> str:
    """CUDA_VISIBLE_DEVICES for ``ids``, which index the devices this process already sees."""
    outer = os.environ.get("CUDA_VISIBLE_DEVICES")
    if outer:
        seen = [d.strip() for d in outer.split(",") if d.strip()]
        return ",".join(seen[i] for i in ids)
    return ",".join(str(i) for i in ids)


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the launcher dies (even by SIGKILL), never outlive it."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode  # killed by signal N -> 128+N


def spawn_local_ranks(argv: Sequence[str], gpus: int | None, gpu_ids: Sequence[int] | None,
                      dist_params: Mapping | None,
                      stop_signals: Sequence[int] = (signal.SIGTERM,)) -> int | None:
    """Run ``train.py argv`` as one rank per device and return the job's exit code.

    Returns None when there is a single rank that can run in this process (``--gpus 1``, or one
    device id on a machine without GPUs, or ``--gpu-ids 0``).
    """
    ids = list(gpu_ids) if gpu_ids else list(range(gpus or 1))
    if len(set(ids)) != len(ids):
        raise UserError(f"--gpu-ids: each device once (got {ids})")
    cuda = _cuda_count()
    if cuda and max(ids) >= cuda:
        raise UserError(f"--gpu-ids/--gpus: device {max(ids)} does not exist (this machine has "
                        f"{cuda} GPU{'s' if cuda > 1 else ''}: 0-{cuda - 1})")
    if len(ids) == 1 and (not cuda or ids == [0]):
        return None
    port = config_port(dist_params) or env_port()
    if port is None:
        port = free_port()
    elif port_in_use(port, "0.0.0.0"):
        raise UserError(f"master port {port} is already in use on this machine (another job?): "
                        "pick another with dist_params.port / MASTER_PORT, or leave it unset to "
                        "get a free one")
    where = f"GPUs {_visible(ids)}" if cuda else "CPU"
    print(f"ocr_ds: starting {len(ids)} local ranks ({where}) with master 127.0.0.1:{port}",
          file=sys.stderr, flush=True)
    procs: list[subprocess.Popen] = []
    for rank in range(len(ids)):
        env = dict(os.environ, RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(len(ids)),
                   LOCAL_WORLD_SIZE=str(len(ids)), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   OCR_DS_LAUNCHER_PID=str(os.getpid()))
        if cuda:
            env["CUDA_VISIBLE_DEVICES"] = _visible(ids)
        procs.append(subprocess.Popen([sys.executable, "-u", TRAIN_PY, *argv], env=env,
                                      preexec_fn=_die_with_parent))
    return _supervise(procs, [s for s in stop_signals if s != signal.SIGTERM])


def _supervise(procs: list[subprocess.Popen], forward: Sequence[int] = ()) -> int:
    """Wait for every rank; on the first failure (or SIGINT/SIGTERM to us) stop the rest;
    pass the signals in ``forward`` on to the ranks."""
    stop: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop.append(signum)

    def pass_on(signum: int, _frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    old.update({s: signal.signal(s, pass_on) for s in forward})
    stopping_since = None
    try:
        while True:
            codes = [p.poll() for p in procs]
            if None not in codes and set(codes) <= {0, EXIT_STOPPED}:
                # every rank finished, or stopped on request after saving
                return EXIT_STOPPED if EXIT_STOPPED in codes else 0
            failed = [(r, c) for r, c in enumerate(codes) if c not in (None, 0, EXIT_STOPPED)]
            if EXIT_STOPPED in codes and not failed and not stop:
                # the others are stopping too (the ranks agree on the iteration): give them time
                stopping_since = stopping_since or time.monotonic()
                if time.monotonic() - stopping_since < TERM_GRACE_S:
                    time.sleep(0.1)
                    continue
                failed = [(r, c) for r, c in enumerate(codes) if c is None]
            if failed or stop:
                _terminate(procs)
                if stop:
                    codes = [p.returncode for p in procs]
                    return EXIT_STOPPED if all(c == EXIT_STOPPED for c in codes) else 128 + stop[0]
                rank, code = failed[0]
                if code is None:  # did not follow the others' stop in time
                    print(f"ocr_ds: rank {rank} did not stop within {TERM_GRACE_S:.0f} s of the "
                          "others; stopped it", file=sys.stderr, flush=True)
                    return 1
                print(f"ocr_ds: rank {rank} exited with code {_exit_code(code)}; stopped the "
                      "other ranks", file=sys.stderr, flush=True)
                return _exit_code(code)
            time.sleep(0.1)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _terminate(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + TERM_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

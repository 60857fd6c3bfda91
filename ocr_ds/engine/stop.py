"""Stop a run cleanly: on a signal (preemption, ``scancel``, a supervisor) or when the process
that launched the ranks is gone.

A stop is only *requested* here — by a signal handler, or by a thread watching the launcher —
and never acted on asynchronously: the loop (:class:`ocr_ds.engine.runner.Runner`) folds the
request into the all-reduce of its finite-loss check at the ranks' sync points (logging,
checkpoints, evaluation, and every ``stop_check_interval`` iterations: by default about every
2 seconds of training), so every rank sees it at the same iteration, stops after it, takes part
in writing a complete
checkpoint and then exits with :data:`EXIT_STOPPED`. ``--auto-resume`` (which a requeued SLURM job
of ``launch/sbatch_train.sh`` passes by itself) continues from that checkpoint.

Signals: SIGTERM always (what SLURM, ``scancel``, Kubernetes, systemd and ``timeout`` send first,
before SIGKILL), plus any named by ``stop_signal`` in the config or ``--stop-signal`` (SIGUSR1
for SLURM's ``--signal=B:USR1@120``), from the start of the training loop; during start-up they
end the process at once, as before (nothing to save yet). SIGINT keeps Python's meaning (stop
at once, no new checkpoint; ``latest`` still names a complete one).

The launcher watch: a rank started by the ``deepspeed`` launcher, torchrun or ``train.py --gpus
N`` records those launcher processes among its ancestors; if one of them goes away (killed on its
own, e.g. by SIGINT/SIGTERM to the ``deepspeed`` process alone, which leaves DeepSpeed's per-node
``launch.py`` and the ranks running), the rank asks to stop. A rank under SLURM, mpirun or a plain
``python train.py`` has no such launcher and watches nothing.
"""
from __future__ import annotations

import os
import signal
import threading
from typing import Any, Sequence

from ocr_ds.errors import UserError

#: the exit code of a run that stopped on request after writing a complete checkpoint
#: (EX_TEMPFAIL of sysexits.h: "try again later" — resume with --auto-resume)
EXIT_STOPPED = 75
#: how often the launcher watch looks (seconds)
WATCH_INTERVAL_S = 1.0
# markers of launcher processes in a command line (argv joined by spaces)
_LAUNCHER_MARKS = ("deepspeed.launcher.launch", "deepspeed.launcher.runner", "torch.distributed.run",
                   "/bin/deepspeed ", "/bin/torchrun ")


class Stopped(Exception):
    """The run stopped on request after ``iteration`` iterations and saving ``checkpoint``;
    exit with :data:`EXIT_STOPPED`."""

    def __init__(self, reason: str, checkpoint: str | None, iteration: int = 0):
        super().__init__(f"stopped ({reason}); checkpoint {checkpoint or '(none)'}")
        self.reason, self.checkpoint, self.iteration = reason, checkpoint, iteration


class _Request:
    """The process-wide stop request: the first reason wins (set from signal handlers and the
    watch thread; a plain attribute write, safe in both)."""

    reason: str | None = None

    def set(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


REQUEST = _Request()


def requested() -> str | None:
    """The reason a stop was asked for on this rank (None: keep training)."""
    return REQUEST.reason


def describe(reasons: Sequence[str | None]) -> str:
    """Every rank's reason (None: not asked) in one line: ``received SIGTERM (rank 1)``."""
    by_reason: dict[str, list[int]] = {}
    for rank, why in enumerate(reasons):
        if why:
            by_reason.setdefault(why, []).append(rank)
    parts = []
    for why, ranks in by_reason.items():
        if len(ranks) == len(reasons) > 1:
            parts.append(f"{why} (every rank)")
        else:
            shown = ", ".join(map(str, ranks[:8])) + (", ..." if len(ranks) > 8 else "")
            parts.append(f"{why} (rank{'s' if len(ranks) > 1 else ''} {shown})")
    return "; ".join(parts) or "asked to stop"


def parse_signals(value: Any, key: str) -> list[signal.Signals]:
    """``'SIGUSR1'``, ``'USR1'``, ``10`` or a list of them -> signals (a :class:`UserError`
    naming ``key`` for anything else, or for a signal that cannot be caught)."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for item in items:
        sig = None
        if isinstance(item, int) and not isinstance(item, bool):
            try:
                sig = signal.Signals(item)
            except ValueError:
                pass
        elif isinstance(item, str):
            name = item.strip().upper()
            name = name if name.startswith("SIG") else "SIG" + name
            sig = getattr(signal.Signals, name, None)
        if sig is None or sig in (signal.SIGKILL, signal.SIGSTOP) or sig == signal.SIGINT:
            raise UserError(f"{key}: expected a signal name such as 'SIGUSR1' or 'SIGTERM' "
                            f"(not SIGKILL, SIGSTOP or SIGINT) (got {item!r})")
        out.append(sig)
    return out


def stop_signals(flag: Any = None, cfg: Any = None) -> tuple[signal.Signals, ...]:
    """SIGTERM and the ones ``--stop-signal`` (``flag``, wins) or ``stop_signal`` in ``cfg``
    name, each once."""
    if flag is not None:
        configured = parse_signals(flag, "--stop-signal")
    else:
        configured = parse_signals((cfg or {}).get("stop_signal"), "stop_signal")
    return tuple(dict.fromkeys([signal.SIGTERM, *configured]))


#: ``stop_check_interval='auto'``: the ranks meet about this often (seconds of training steps)
AUTO_CHECK_SECONDS = 2.0


def check_interval(cfg: Any = None) -> int | str:
    """``stop_check_interval`` of ``cfg``: every how many iterations the ranks meet to agree on
    a stop (and on NaN/inf losses; :class:`ocr_ds.engine.runner.Runner`), or ``'auto'`` (the
    default: as many iterations as take about :data:`AUTO_CHECK_SECONDS`)."""
    value = (cfg or {}).get("stop_check_interval", "auto")
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"stop_check_interval: expected a positive integer, the iterations "
                        f"between two stop checks, or 'auto' (got {value!r})")
    return value


def auto_interval(steps: int, seconds: float, target: float = AUTO_CHECK_SECONDS) -> int:
    """How many iterations take about ``target`` seconds, from ``steps`` that took ``seconds``
    (at least 1)."""
    if steps <= 0 or seconds <= 0:
        return 1
    return max(1, int(target * steps / seconds))


_PREVIOUS: dict[signal.Signals, Any] = {}  # the handlers install() replaced


def install(signals: Sequence[signal.Signals]) -> None:
    """Make ``signals`` request a stop in this process (main thread only), from now until
    :func:`uninstall`.

    Called when the training loop starts: before, these signals keep their default action
    (end the process at once), since there is nothing to save yet and a rank may be blocked
    in a rendezvous that never completes (its peer failed), where a request would never be
    read."""

    def on_signal(signum: int, _frame: object) -> None:
        REQUEST.set(f"received {signal.Signals(signum).name}")

    for sig in signals:
        _PREVIOUS.setdefault(sig, signal.signal(sig, on_signal))
        # restart interrupted system calls: the request is read between iterations anyway
        signal.siginterrupt(sig, False)


def uninstall(stopped: bool = False) -> None:
    """Give the signals :func:`install` took their handlers back; forget any request.

    ``stopped``: the run stopped cleanly and this process is about to exit 75; ignore these
    signals instead until it has. A launcher may SIGTERM the ranks still winding down when the
    first one exits (srun --kill-on-bad-exit takes 75 for a failure), which would turn their
    exit 75 into 143 and hide the clean stop from the script that requeues."""
    while _PREVIOUS:
        sig, handler = _PREVIOUS.popitem()
        signal.signal(sig, signal.SIG_IGN if stopped else handler)
    REQUEST.reason = None


# -- the launcher watch -------------------------------------------------------------------------
def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of ``pid`` from /proc, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def launcher_processes(max_depth: int = 4) -> list[tuple[int, int, str]]:
    """``(pid, start time, name)`` of the launcher processes above this rank: the nearest
    ancestors that are a DeepSpeed launcher, torchrun, or the ``train.py --gpus`` parent that
    started us (``OCR_DS_LAUNCHER_PID``), up to the first that is none of these."""
    ours = os.environ.get("OCR_DS_LAUNCHER_PID", "")
    found = []
    pid = os.getppid()
    for _ in range(max_depth):
        st = _stat(pid) if pid > 1 else None
        if st is None:
            break
        cmd = _cmdline(pid)
        if not (str(pid) == ours or any(m in cmd + " " for m in _LAUNCHER_MARKS)):
            break
        found.append((pid, st[2], _launcher_name(cmd, str(pid) == ours)))
        pid = st[1]
    return found


def _launcher_name(cmd: str, spawned_us: bool) -> str:
    if spawned_us:
        return "train.py --gpus"
    if "deepspeed.launcher.launch" in cmd:
        return "DeepSpeed's launch.py"
    if "torch.distributed.run" in cmd or "/bin/torchrun " in cmd + " ":
        return "torchrun"
    return "deepspeed"


def _gone(pid: int, start: int) -> bool:
    st = _stat(pid)
    return st is None or st[2] != start or st[0] in ("Z", "X")


def watch_launchers(interval: float = WATCH_INTERVAL_S) -> list[tuple[int, int, str]]:
    """Start a daemon thread that requests a stop when a launcher process above this rank goes
    away; returns what it watches (nothing to watch: no thread)."""
    watched = launcher_processes()
    if not watched:
        return []

    def run() -> None:
        while REQUEST.reason is None:
            for pid, start, cmd in watched:
                if _gone(pid, start):
                    REQUEST.set(f"the launcher process {pid} ({cmd}) is gone")
                    return
            threading.Event().wait(interval)

    threading.Thread(target=run, name="ocr_ds-launcher-watch", daemon=True).start()
    return watched


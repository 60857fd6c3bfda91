"""Process-group facts and the small collectives the loop and hooks need.

Every function works without a process group (a single plain process), so hooks and tests can
call them unconditionally.
"""
from __future__ import annotations

import os
import random
import socket
import threading
from typing import Any

import torch
import torch.distributed as tdist


def is_dist() -> bool:
    return tdist.is_available() and tdist.is_initialized()


def get_rank() -> int:
    return tdist.get_rank() if is_dist() else 0


def get_world_size() -> int:
    return tdist.get_world_size() if is_dist() else 1


def is_main() -> bool:
    return get_rank() == 0


def barrier() -> None:
    if is_dist():
        tdist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Rank ``src``'s ``obj`` on every rank."""
    if not is_dist():
        return obj
    box = [obj]
    tdist.broadcast_object_list(box, src=src)
    return box[0]


def gather_object(obj: Any, dst: int = 0) -> list[Any] | None:
    """Every rank's ``obj`` in rank order on rank ``dst`` (None on the others)."""
    if not is_dist():
        return [obj]
    out: list[Any] | None = [None] * get_world_size() if get_rank() == dst else None
    tdist.gather_object(obj, out, dst=dst)
    return out


def all_gather_object(obj: Any) -> list[Any]:
    """Every rank's ``obj`` in rank order, on every rank."""
    if not is_dist():
        return [obj]
    out: list[Any] = [None] * get_world_size()
    tdist.all_gather_object(out, obj)
    return out


def collective_device() -> torch.device:
    """Where a tensor must live for this process group's all-reduce: NCCL (GPU ranks) reduces
    only CUDA tensors, gloo and DeepSpeed's CPU backend host tensors."""
    if is_dist() and tdist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _flat_collective(tensors: list[torch.Tensor], collective: Any) -> None:
    """Run ``collective`` on all ``tensors`` at once, as one flat float64 copy on the
    collective device (NCCL takes CUDA tensors, gloo host ones; float64 holds every float
    buffer's values exactly), then write the result back into each."""
    flat = torch.cat([t.detach().reshape(-1).to(collective_device(), torch.float64)
                      for t in tensors])
    collective(flat)
    offset = 0
    for t in tensors:
        t.data.copy_(flat[offset:offset + t.numel()].view_as(t))
        offset += t.numel()


def broadcast_bn_buffers(model: torch.nn.Module) -> int:
    """mmcv's ``DistEvalHook`` before evaluating: every rank takes rank 0's BatchNorm running
    mean and variance (each rank's drift with its own batches; rank 0's are the checkpoint's).
    Returns how many modules were synchronised."""
    norms = [m for m in model.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not is_dist() or not norms:
        return 0
    _flat_collective([b for m in norms for b in (m.running_var, m.running_mean)],
                     lambda flat: tdist.broadcast(flat, 0))
    return len(norms)


def all_reduce_buffers_mean(model: torch.nn.Module) -> int:
    """Every floating-point buffer of ``model`` becomes its mean over the ranks (mmcv's
    ``allreduce_params(model.buffers())``). Returns how many were averaged."""
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    if not is_dist() or not buffers:
        return 0

    def mean(flat: torch.Tensor) -> None:
        tdist.all_reduce(flat)
        flat /= get_world_size()

    _flat_collective(buffers, mean)
    return len(buffers)


def all_reduce_mean(values: dict[str, float]) -> dict[str, float]:
    """Average a dict of floats over ranks (same keys in the same order on every rank)."""
    if not is_dist() or not values:
        return dict(values)
    t = torch.tensor(list(values.values()), dtype=torch.float64, device=collective_device())
    tdist.all_reduce(t)
    t /= get_world_size()
    return dict(zip(values.keys(), t.tolist()))


def all_reduce_max(value: float) -> float:
    if not is_dist():
        return value
    t = torch.tensor([value], dtype=torch.float64, device=collective_device())
    tdist.all_reduce(t, op=tdist.ReduceOp.MAX)
    return float(t.item())


def first_nonfinite(values: list[torch.Tensor], flag: bool = False, offer: int = 0
                    ) -> tuple[tuple[int, int, float] | None, bool, int]:
    """The first NaN/inf among ``values`` (scalars, one per iteration, the same count on every
    rank) over all ranks: ``(index, rank, value)`` of the earliest index, lowest rank first;
    None if all are finite everywhere; whether ``flag`` is set on some rank (a stop asked), so
    that every rank takes the same decision at the same iteration; and the smallest positive
    ``offer`` of the ranks (0 if none made one: a number they must agree on, such as the next
    sync point). One all-reduce and one host sync for the whole list; nothing at all when
    ``values`` is empty (on every rank)."""
    if not values:
        return None, False, 0
    v = torch.stack([x.detach().reshape(()).double() for x in values])
    bad = ~torch.isfinite(v)
    n = len(values)
    # argmax of a 0/1 vector is its first 1; none bad -> n
    index = torch.where(bad.any(), bad.to(torch.uint8).argmax(), n)
    # row r holds rank r's (first bad index, its value, flag, offer); the other rows are zero,
    # so a sum over ranks fills every row without mixing them (NaN + 0 stays NaN)
    table = torch.zeros(get_world_size(), 4, dtype=torch.float64,
                        device=collective_device() if is_dist() else v.device)
    table[get_rank(), 0] = index.double()
    table[get_rank(), 1] = torch.where(bad.any(), v[index.clamp(max=n - 1)], 0.0)
    table[get_rank(), 2] = 1.0 if flag else 0.0
    table[get_rank(), 3] = float(offer)
    if is_dist():
        tdist.all_reduce(table)
    rows = table.tolist()
    stopping = any(row[2] for row in rows)
    offers = [int(row[3]) for row in rows if row[3] > 0]
    agreed = min(offers) if offers else 0
    first = min(range(len(rows)), key=lambda r: (rows[r][0], r))
    if rows[first][0] >= n:
        return None, stopping, agreed
    return (int(rows[first][0]), first, rows[first][1]), stopping, agreed


_HANDED_OUT: set[int] = set()   # every port free_port returned in this process
_HANDED_OUT_LOCK = threading.Lock()


EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
_PICK = random.Random()     # its own generator: a seeded run's random stream is left alone
os.register_at_fork(after_in_child=_PICK.seed)   # forked children do not pick their parent's


def _unassigned_ports() -> range | None:
    """Ports the kernel never hands out by itself (outside its ephemeral range, above 10000),
    where that range is known (Linux) and leaves at least 1000 of them; else None."""
    try:
        with open(EPHEMERAL_RANGE_FILE) as f:
            low, high = (int(v) for v in f.read().split())
    except (OSError, ValueError):
        return None
    below, above = range(10000, low), range(high + 1, 65536)
    best = max(below, above, key=len)
    return best if len(best) >= 1000 else None


def free_port() -> int:
    """A TCP port that was free a moment ago on this machine, never one this process was handed
    before: two jobs started together from one process (threads) get two ports even when neither
    has bound its own yet. Picked at random outside the kernel's ephemeral range where that is
    known (as torchrun's and DeepSpeed's default 29500 lies outside it): the OS hands ephemeral
    ports to every ``bind(0)`` and outgoing connection (any other job's gloo pair sockets, HTTP
    clients), and one of those could take ours in the seconds before the master binds it."""
    pool = _unassigned_ports()
    with _HANDED_OUT_LOCK:
        for _ in range(200 if pool else 0):
            port = _PICK.choice(pool)
            if port not in _HANDED_OUT and not port_in_use(port, ""):
                _HANDED_OUT.add(port)
                return port
        while True:     # no such range here (or it is all taken): the OS picks
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _HANDED_OUT:
                _HANDED_OUT.add(port)
                return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def env_world_size() -> int:
    """World size a launcher announced in the environment (1 when none did)."""
    for var in ("WORLD_SIZE", "SLURM_NTASKS", "OMPI_COMM_WORLD_SIZE"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 1

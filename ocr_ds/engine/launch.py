"""Turn what a launcher left in the environment into the variables DeepSpeed reads.

DeepSpeed's ``init_distributed`` wants ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``
and ``MASTER_PORT``; without them it tries MPI discovery (and fails without mpi4py). The
``deepspeed`` and ``torchrun`` launchers set them; for SLURM and OpenMPI we map their variables
as mmcv does (REFERENCE §1); a plain ``python ocr_ds/train.py`` becomes a world of one.
"""
from __future__ import annotations

import os
import subprocess
from typing import Mapping

from ocr_ds.engine.dist import free_port
from ocr_ds.errors import UserError

LAUNCHERS = ("none", "pytorch", "slurm", "mpi")
_REQUIRED = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def _port_from(dist_params: Mapping | None) -> int | None:
    port = (dist_params or {}).get("port")
    if port is None:
        return None
    if not isinstance(port, int) or not 0 < port < 65536:
        raise UserError(f"dist_params.port: expected a TCP port 1-65535 (got {port!r})")
    return port


def _first_slurm_host(nodelist: str) -> str:
    try:
        out = subprocess.run(["scontrol", "show", "hostnames", nodelist], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise UserError(f"--launcher slurm: cannot expand SLURM_NODELIST={nodelist!r} "
                        f"with scontrol ({exc})") from None
    return out.split()[0]


def setup_env(launcher: str, dist_params: Mapping | None, local_rank: int | None = None) -> None:
    """Export RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT for ``launcher``."""
    env = os.environ
    port = _port_from(dist_params)
    if launcher == "slurm":
        for var in ("SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"):
            if var not in env:
                raise UserError(f"--launcher slurm: {var} is not set; run under srun/sbatch")
        env["RANK"] = env["SLURM_PROCID"]
        env["WORLD_SIZE"] = env["SLURM_NTASKS"]
        env["LOCAL_RANK"] = env.get("SLURM_LOCALID", "0")
        env.setdefault("MASTER_ADDR", _first_slurm_host(env["SLURM_NODELIST"]))
        env["MASTER_PORT"] = str(port or env.get("MASTER_PORT") or 29500)
    elif launcher == "mpi":
        for var in ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"):
            if var not in env:
                raise UserError(f"--launcher mpi: {var} is not set; run under mpirun")
        env["RANK"] = env["OMPI_COMM_WORLD_RANK"]
        env["WORLD_SIZE"] = env["OMPI_COMM_WORLD_SIZE"]
        env["LOCAL_RANK"] = env.get("OMPI_COMM_WORLD_LOCAL_RANK", "0")
        if "MASTER_ADDR" not in env:
            raise UserError("--launcher mpi: MASTER_ADDR must be set to the address of rank 0")
        env["MASTER_PORT"] = str(port or env.get("MASTER_PORT") or 29500)
    elif launcher == "pytorch":
        missing = [v for v in _REQUIRED if v not in env]
        if missing:
            raise UserError(f"--launcher pytorch: {', '.join(missing)} not set; "
                            "start with torchrun or python -m torch.distributed.run")
    else:  # none: started by the deepspeed launcher (env set) or as one plain process
        if not all(v in env for v in ("RANK", "WORLD_SIZE")):
            env["RANK"], env["WORLD_SIZE"] = "0", "1"
            env["LOCAL_RANK"] = str(local_rank or 0)
            env.setdefault("MASTER_ADDR", "127.0.0.1")
            env["MASTER_PORT"] = str(port or free_port())
    if local_rank is not None and "LOCAL_RANK" not in env:
        env["LOCAL_RANK"] = str(local_rank)

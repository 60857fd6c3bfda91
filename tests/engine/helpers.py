"""Run ocr_ds/train.py as users do (one process, or real DeepSpeed ranks) and read what it wrote."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from typing import Callable

import torch

from ocr_ds.engine.dist import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRAIN = os.path.join(ROOT, "ocr_ds", "train.py")
TOY = os.path.join(ROOT, "tests", "fixtures", "engine", "toy.py")
BIN = os.path.dirname(sys.executable)


def env() -> dict[str, str]:
    # no malloc settings inherited from this process (train.py makes its own, see allocator.py)
    e = {k: v for k, v in os.environ.items()
         if not k.startswith("MALLOC_") and k != "OCR_DS_CPU_MALLOC"}
    e.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    e["PATH"] = BIN + os.pathsep + e.get("PATH", "")
    return e


def command(args: list[str], ranks: int = 1, config: str = TOY,
            port: int | None = None, script: str = TRAIN) -> list[str]:
    """``python ocr_ds/train.py`` (ranks=1) or ``deepspeed --num_gpus N ocr_ds/train.py``
    (``script``: a wrapper that takes train.py's arguments)."""
    if ranks == 1:
        return [sys.executable, script, config, *args]
    return [os.path.join(BIN, "deepspeed"), "--num_gpus", str(ranks), "--master_port",
            str(port or free_port()), script, "--config", config, *args]


def train(args: list[str], ranks: int = 1, timeout: int = 300, check: bool = True,
          config: str = TOY, port: int | None = None,
          script: str = TRAIN) -> subprocess.CompletedProcess:
    """Run :func:`command` to its end (an AssertionError with the output if it fails)."""
    cmd = command(args, ranks, config, port, script)
    proc = subprocess.run(cmd, cwd=ROOT, env=env(), capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n"
                             f"{proc.stderr[-4000:]}")
    return proc


def json_log(work_dir: str) -> list[dict]:
    (path,) = glob.glob(os.path.join(work_dir, "*.log.json"))
    with open(path) as f:
        return [json.loads(line) for line in f]


def text_log(work_dir: str) -> str:
    (path,) = [p for p in glob.glob(os.path.join(work_dir, "*.log"))]
    with open(path) as f:
        return f.read()


def weights(path: str) -> dict[str, torch.Tensor]:
    from ocr_ds.checkpoint_io import load_checkpoint_any

    return load_checkpoint_any(path)[0]


def train_with_probe(install: Callable[[], None], dump: Callable[[str], None]) -> None:
    """The ``__main__`` of a probe script (started by ``deepspeed`` in train.py's place, with
    its arguments): ``install`` the probe's patches, ``dump(work_dir)`` at exit, run train.py."""
    import atexit

    work_dir = sys.argv[sys.argv.index("--work-dir") + 1]
    install()
    atexit.register(dump, work_dir)
    from ocr_ds import train

    sys.argv[0] = train.__file__
    train.run_cli(train._main_with_faults)

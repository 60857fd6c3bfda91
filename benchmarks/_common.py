"""What the benchmark drivers share: start ``ocr_ds/train.py`` jobs as users do and read them."""
from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from ocr_ds.engine.dist import free_port  # noqa: E402
TRAIN = os.path.join(ROOT, "ocr_ds", "train.py")


def child_env() -> dict[str, str]:
    """One thread per rank; this checkout's ocr_ds first on the path; this venv's launcher."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def write_run_config(work_dir: str, base: str, iters: int, extra: list[str] = ()) -> str:
    """A config over ``base`` that trains ``iters`` iterations, logs each, saves nothing."""
    lines = [f"_base_ = [{os.path.abspath(base)!r}]",
             f"runner = dict(_delete_=True, type='IterBasedRunner', max_iters={iters})",
             "total_epochs = None",
             # an iteration-based run needs an iteration-based lr (DBNet's poly is per epoch)
             "lr_config = dict(by_epoch=False)",
             "checkpoint_config = dict(_delete_=True, interval=-1, save_last=False)",
             "log_config = dict(interval=1, hooks=[dict(type='TextLoggerHook')])", *extra]
    path = os.path.join(work_dir, "bench_cfg.py")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def launch(script: str, ranks: int, args: list[str], timeout: int,
           cwd: str = ROOT) -> subprocess.CompletedProcess:
    """``deepspeed --num_gpus <ranks> <script> <args>`` from ``cwd`` (the repository root)."""
    launcher = os.path.join(os.path.dirname(sys.executable), "deepspeed")
    # DeepSpeed installed with pip --target (the GPU check's /tmp/site) has no script beside this
    # Python: its launcher module is the same program
    start = [launcher] if os.path.exists(launcher) else [sys.executable, "-m",
                                                         "deepspeed.launcher.runner"]
    cmd = [*start, "--num_gpus", str(ranks), "--master_port", str(free_port()), script, *args]
    return subprocess.run(cmd, cwd=cwd, env=child_env(), capture_output=True, text=True,
                          timeout=timeout)


def failure(what: str, proc: subprocess.CompletedProcess) -> RuntimeError:
    return RuntimeError(f"{what} failed (exit {proc.returncode})\n{proc.stdout[-3000:]}\n"
                        f"{proc.stderr[-3000:]}")


def json_log(work_dir: str) -> list[dict]:
    (path,) = glob.glob(os.path.join(work_dir, "*.log.json"))
    with open(path) as f:
        return [json.loads(line) for line in f]

"""The process that launched the ranks gets SIGINT or SIGTERM alone (what `timeout`, systemd, a
CI runner or a supervisor sends), under DeepSpeed's launcher, torchrun and `train.py --gpus 2`:
every rank is gone within 30 s, `latest` names a complete checkpoint, and nothing stays behind
(no process of the job, no listener on its master port, no file of it in /dev/shm)."""
from __future__ import annotations

import glob
import os
import signal
import time
import uuid

import pytest

import cluster_util as cu
from ocr_ds.engine.dist import port_in_use

pytestmark = pytest.mark.cluster
# a long run; checkpoints every epoch (6 iterations on 2 ranks), no evaluation
LONG = ["--no-validate", "--cfg-options", "total_epochs=100000", "checkpoint_config.interval=1",
        "checkpoint_config.max_keep_ckpts=2"]


def _command(launcher: str, wd: str, port: int) -> list[str]:
    if launcher == "deepspeed":
        return [os.path.join(cu.BIN, "deepspeed"), "--num_gpus", "2", "--master_port", str(port),
                cu.TRAIN, "--config", cu.TOY, "--work-dir", wd, *LONG]
    if launcher == "torchrun":
        return [cu.PYTHON, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                str(port), cu.TRAIN, cu.TOY, "--work-dir", wd, "--launcher", "pytorch", *LONG]
    return [cu.PYTHON, cu.TRAIN, cu.TOY, "--gpus", "2", "--work-dir", wd, *LONG,
            f"dist_params.port={port}"]


def _shm_files(pids: list[int]) -> list[str]:
    """/dev/shm files these processes have open or mapped."""
    found = set()
    for pid in pids:
        for where in (f"/proc/{pid}/fd", f"/proc/{pid}/map_files"):
            try:
                names = os.listdir(where)
            except OSError:
                continue
            for name in names:
                try:
                    target = os.readlink(os.path.join(where, name))
                except OSError:
                    continue
                if target.startswith("/dev/shm/"):
                    found.add(target.split(" (deleted)")[0])
    return sorted(found)


@pytest.mark.parametrize("launcher", ["deepspeed", "torchrun", "gpus"])
def test_signal_to_the_launcher_alone_stops_every_rank(tmp_path, launcher):
    """Two jobs side by side: one launcher gets SIGINT, the other SIGTERM."""
    jobs = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        tag, wd, port = uuid.uuid4().hex, str(tmp_path / sig.name), cu.free_port()
        log = str(tmp_path / f"{sig.name}.log")
        jobs[sig] = dict(tag=tag, wd=wd, port=port, log=log,
                         proc=cu.start(_command(launcher, wd, port), log, cu.env(OCR_DS_TEST_JOB=tag)))
    try:
        for j in jobs.values():
            cu.wait_until(lambda: os.path.exists(os.path.join(j["wd"], "latest"))
                          or j["proc"].poll() is not None, 120, "the first checkpoint")
            assert j["proc"].poll() is None, cu.tail(j["log"])
            ranks = cu.job_ranks(j["tag"])
            assert sorted(ranks) == [0, 1], (ranks, cu.tail(j["log"]))
            j["shm"] = _shm_files(cu.job_processes(j["tag"]))
        for sig, j in jobs.items():
            os.kill(j["proc"].pid, sig)  # the launcher alone, not its process group
            j["t0"] = time.monotonic()
        for j in jobs.values():
            cu.wait_until(lambda: not cu.job_ranks(j["tag"]), 30, "every rank to stop")
            j["took"] = time.monotonic() - j["t0"]
        for j in jobs.values():
            cu.wait_until(lambda: not cu.job_processes(j["tag"]), 15,
                          "every process of the job to exit")
            j["proc"].wait(timeout=10)
    finally:
        for j in jobs.values():
            if j["proc"].poll() is None:
                cu._kill_group(j["proc"])
            cu.kill_pids(cu.job_processes(j["tag"]))
    for sig, j in jobs.items():
        wd, port = j["wd"], j["port"]
        out = cu.tail(j["log"], 20000)
        assert j["took"] < 30, (sig.name, j["took"], out[-4000:])
        with open(os.path.join(wd, "latest")) as f:
            latest = f.read()
        assert os.path.isfile(os.path.join(wd, latest, "ocr_ds_meta.json")), out[-4000:]
        if not (launcher == "torchrun" and sig == signal.SIGINT):
            # the ranks stopped cleanly and wrote where they were (torchrun passes SIGINT on to
            # the ranks, which then stop at once, as Ctrl-C does: `latest` stays on the last
            # epoch) (a stop at the end of an epoch names that epoch's scheduled checkpoint)
            assert f"checkpoint {os.path.join(wd, latest)} is complete: run again with " \
                "--auto-resume" in out, (sig.name, out[-4000:])
        assert not port_in_use(port, "0.0.0.0"), f"master port {port} still in use ({sig.name})"
        assert not glob.glob(f"/dev/shm/deepspeed_allreduce_buffer_*_{port}_*")
        left = [f for f in j["shm"] if os.path.exists(f)]
        assert not left, (sig.name, left)

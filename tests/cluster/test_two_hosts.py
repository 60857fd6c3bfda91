"""Two "machines" on one: network namespaces ocrds_a (10.200.0.1) and ocrds_b (10.200.0.2)
joined by a veth pair, an sshd in each. DeepSpeed's multi-node launcher over pdsh/ssh, the same
started by hand on each host (--no_ssh --node_rank), and a two-node SLURM running
launch/slurm.sh: each trains the toy config for one epoch as 2 ranks, one per host."""
from __future__ import annotations

import os

import pytest

import cluster_util as cu

pytestmark = pytest.mark.cluster
# gloo picks its interface from the hostname, which resolves to 127.0.0.1 here: name the veth
IFNAME = "veth0"


@pytest.fixture
def hostfile(tmp_path):
    path = tmp_path / "hostfile"
    path.write_text("".join(f"{ip} slots=1\n" for ip in cu.IPS))
    return str(path)


def test_deepspeed_hostfile_over_pdsh(netns, hostfile, tmp_path):
    wd = str(tmp_path / "wd")
    # pdsh forwards only some variables; the rest go through a .deepspeed_env file
    ds_env = tmp_path / "deepspeed_env"
    ds_env.write_text(f"GLOO_SOCKET_IFNAME={IFNAME}\nOMP_NUM_THREADS=1")
    e = cu.env(DS_ENV_FILE=str(ds_env), PDSH_SSH_ARGS_APPEND=f"-F {netns['ssh_config']}")
    cmd = [*cu.in_ns(0), os.path.join(cu.BIN, "deepspeed"), "--hostfile", hostfile,
           "--no_ssh_check", "--master_addr", cu.IPS[0], "--master_port", str(cu.free_port()),
           # the remote shell must use this venv (its ninja, or the comm op is rebuilt)
           "--venv_script", os.path.join(cu.BIN, "activate"),
           cu.TRAIN, "--config", cu.TOY, "--work-dir", wd, *cu.ONE_EPOCH]
    rc, out = cu.run(cmd, str(tmp_path / "log"), env_=e)
    assert rc == 0, out[-6000:]
    assert "cmd = pdsh" in out
    for ip in cu.IPS:  # pdsh prefixes each host's output with its name
        assert f"{ip}: " in out and "dist_world_size=2" in out
    cu.assert_trained(wd)


def test_deepspeed_no_ssh_node_rank_on_each_host(netns, hostfile, tmp_path):
    wd = str(tmp_path / "wd")
    port = str(cu.free_port())
    e = cu.env(GLOO_SOCKET_IFNAME=IFNAME)
    jobs = []
    for rank in (0, 1):
        log = str(tmp_path / f"log{rank}")
        cmd = [*cu.in_ns(rank), os.path.join(cu.BIN, "deepspeed"), "--hostfile", hostfile,
               "--no_ssh", "--node_rank", str(rank), "--master_addr", cu.IPS[0],
               "--master_port", port, cu.TRAIN, "--config", cu.TOY, "--work-dir", wd,
               *cu.ONE_EPOCH]
        jobs.append((cu.start(cmd, log, e), log))
    results = cu.finish_all(jobs, 180)
    for rank, (rc, out, _) in enumerate(results):
        assert rc == 0, f"node {rank}:\n{out[-6000:]}"
    cu.assert_trained(wd)


def test_two_node_slurm_runs_slurm_sh(slurm2, tmp_path):
    wd = str(tmp_path / "wd")
    e = cu.env(**slurm2, GPUS="2", GPUS_PER_NODE="1", CPUS_PER_TASK="1", GPU_GRES="0",
               GLOO_SOCKET_IFNAME=IFNAME)
    logs = {n: os.path.join(cu.CLUSTER_DIR, "slurm2", f"slurmd-{n}.log") for n in ("n1", "n2")}
    before = {n: cu.tail(p, 10**7).count("launch task") for n, p in logs.items()}
    # the controller listens in ocrds_a; srun's own sockets must be reachable from both nodes
    rc, out = cu.run([*cu.in_ns(0), os.path.join(cu.LAUNCH, "slurm.sh"), "debug", "ocr_ds-2n",
                      cu.TOY, wd, *cu.ONE_EPOCH], str(tmp_path / "log"), env_=e)
    assert rc == 0, out[-6000:]
    assert "--ntasks=2 --ntasks-per-node=1" in out
    for n, p in logs.items():  # one task on each node
        assert cu.tail(p, 10**7).count("launch task") == before[n] + 1, (n, cu.tail(p))
    cu.assert_trained(wd)

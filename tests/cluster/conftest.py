"""Fixtures for the launcher tests: daemons (munged, slurmctld, slurmd, sshd) and network
namespaces started by tests/cluster/cluster.sh and stopped again, whatever the tests did.

Needs root and the tools tests/cluster/install.sh installs; without them the tests are skipped
(with the reason). One pytest session at a time uses the cluster (a lock file), since the
namespaces and the SLURM ports are machine-wide.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import cluster_util as cu  # noqa: E402
from cluster_util import need  # noqa: E402


def pytest_configure(config):
    # registered here too, so `--strict-markers` accepts it before setup.cfg lists it
    config.addinivalue_line("markers", "cluster: real launchers (SLURM, mpirun, torchrun, pdsh "
                            "over ssh, network namespaces); needs root and tests/cluster/install.sh")


def _cluster(cmd: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    env = cu.env(CLUSTER_DIR=cu.CLUSTER_DIR, **extra)
    proc = subprocess.run(["bash", cu.CLUSTER_SH, cmd], env=env, capture_output=True, text=True,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"cluster.sh {cmd} failed ({proc.returncode}):\n{proc.stdout}\n"
                             f"{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def cluster_lock():
    """Serialise cluster use across pytest sessions on this machine; tear everything down last."""
    os.makedirs(cu.CLUSTER_DIR, exist_ok=True)
    with open(os.path.join(os.path.dirname(cu.CLUSTER_DIR.rstrip("/")), "ocr_ds-cluster.lock"),
              "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            _cluster("down", check=False)
            fcntl.flock(lock, fcntl.LOCK_UN)


def _assert_down(*pidfile_globs: str) -> None:
    status = _cluster("status", check=False).stdout
    up = [line for line in status.splitlines() if line.startswith("up ")
          and any(g in line for g in pidfile_globs)]
    assert not up, f"daemons still running after teardown:\n{status}"


@pytest.fixture(scope="module")
def slurm1(cluster_lock):
    """A one-node SLURM (node "localhost", partition "debug", 4 CPUs): yields its env."""
    need("munged", "slurmctld", "slurmd", "srun", "sbatch", "scontrol", root=True)
    _cluster("slurm1-up")
    try:
        yield {"SLURM_CONF": os.path.join(cu.CLUSTER_DIR, "slurm1", "slurm.conf")}
    finally:
        _cluster("slurm1-down")
        _assert_down("/slurm1/")


@pytest.fixture(scope="module")
def netns(cluster_lock):
    """Two "hosts": namespaces ocrds_a (10.200.0.1) and ocrds_b (10.200.0.2), an sshd in each."""
    need("ip", "nsenter", "unshare", "sshd", "ssh", "ssh-keygen", "pdsh", root=True)
    probe = subprocess.run(["unshare", "--net", "true"], capture_output=True, text=True)
    if probe.returncode != 0:  # e.g. an unprivileged container
        pytest.skip(f"cannot create network namespaces here: {probe.stderr.strip()}")
    _cluster("netns-up")
    try:
        yield {"ssh_config": os.path.join(cu.CLUSTER_DIR, "ssh", "ssh_config")}
    finally:
        _cluster("netns-down")
        _assert_down("/ssh/")
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert not any(ns in listed for ns in cu.NS), listed


@pytest.fixture(scope="module")
def slurm2(netns):
    """A two-node SLURM across the namespaces (n1 in ocrds_a, n2 in ocrds_b): yields its env."""
    need("munged", "slurmctld", "slurmd", "srun", "scontrol", root=True)
    _cluster("slurm2-up")
    try:
        yield {"SLURM_CONF": os.path.join(cu.CLUSTER_DIR, "slurm2", "slurm.conf")}
    finally:
        _cluster("slurm2-down")
        _assert_down("/slurm2/")

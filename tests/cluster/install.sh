#!/usr/bin/env bash
# Install what the cluster tests (tests/cluster/, marker `cluster`) need: a SLURM controller and
# node daemon with munge, an sshd + pdsh for DeepSpeed's multi-node launcher, OpenMPI for
# `mpirun`, iproute2 for the network namespaces; memcached for the image-cache tests
# (tests/fileio/) and a Java runtime for TorchServe (tests/tools/test_torchserve.py).
# Debian/Ubuntu, as root. Idempotent: when every tool is present it does nothing (no apt-get
# update).
#
#   tests/cluster/install.sh          # then: .venv/bin/python -m pytest -m cluster tests/cluster
set -euo pipefail

PKGS=(slurmctld slurmd slurm-client munge openssh-server openssh-client pdsh openmpi-bin
      iproute2 util-linux procps memcached default-jre-headless)
# one command per package above that proves it is installed
TOOLS=(slurmctld slurmd srun sbatch scontrol munged munge sshd ssh pdsh mpirun ip nsenter ps
       memcached java)

missing=()
for t in "${TOOLS[@]}"; do
  command -v "$t" >/dev/null 2>&1 || [[ -x /usr/sbin/$t ]] || missing+=("$t")
done
if (( ${#missing[@]} == 0 )); then
  echo "cluster test tools already installed"
  exit 0
fi
if (( EUID != 0 )); then
  echo "install.sh: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "installing (missing: ${missing[*]})"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PKGS[@]}"
# Nothing is started here: the test fixtures run their own daemons (tests/cluster/cluster.sh)
# with their own config, key and socket files. Only SLURM's ports 6817/6818 are shared with a
# system slurmctld/slurmd, should an init system have started one (SLURMCTLD_PORT/SLURMD_PORT).
# The memcached fixture (tests/fileio/conftest.py) starts `memcached -p <free port>` itself; a
# system memcached on 11211, if the init system started one, is left alone.
echo "installed: $(slurmctld -V 2>/dev/null), $(mpirun --version 2>/dev/null | head -n1), $(ssh -V 2>&1), $(memcached -V 2>/dev/null)"

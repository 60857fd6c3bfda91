#!/usr/bin/env bash
# A cluster on one machine for the launcher tests (tests/cluster/): SLURM, sshd for DeepSpeed's
# pdsh launcher, and two "hosts" as network namespaces. Root, no systemd. Every daemon is our own
# copy with its own files under $CLUSTER_DIR (its own munge key and socket, slurm.conf passed by
# path, sshd config and keys): nothing under /etc is written. Idempotent; tracked by pidfiles.
#
#   cluster.sh slurm1-up     munged + slurmctld + slurmd: one node "localhost" (CPUs=$SLURM_CPUS)
#   cluster.sh netns-up      namespaces ocrds_a (10.200.0.1) <-veth0/veth0-> ocrds_b (10.200.0.2),
#                            an sshd in each (port 22 of the namespace)
#   cluster.sh slurm2-up     munged + a two-node SLURM: n1 in ocrds_a, n2 in ocrds_b (needs netns-up)
#   cluster.sh slurm1-down | netns-down | slurm2-down | down (all) | status
#
# Clients: export SLURM_CONF=$CLUSTER_DIR/slurm1/slurm.conf (slurm1); for slurm2 also run inside
# ocrds_a: nsenter --net=/run/netns/ocrds_a srun ... (the controller listens on 10.200.0.1).
# ssh/pdsh: PDSH_SSH_ARGS_APPEND="-F $CLUSTER_DIR/ssh/ssh_config", ssh -F the same file.
#
# Env: CLUSTER_DIR (/tmp/ocr_ds-cluster), SLURM_CPUS (4: may exceed nproc, lets 2 tasks x 2 CPUs
# fit), SLURMCTLD_PORT / SLURMD_PORT (6817 / 6818 for slurm1; slurm2 lives in the namespaces).
set -euo pipefail
DIR=${CLUSTER_DIR:-/tmp/ocr_ds-cluster}
CPUS=${SLURM_CPUS:-4}
CTLD_PORT=${SLURMCTLD_PORT:-6817}
SLURMD_PORT=${SLURMD_PORT:-6818}
NS=(ocrds_a ocrds_b); IPS=(10.200.0.1 10.200.0.2); NODES=(n1 n2)
MUNGE=$DIR/munge
SSH_DIR=$DIR/ssh

# alive and not a zombie: a PID 1 that does not reap (containers, microVMs) leaves killed
# daemons as zombies, which `kill -0` still reports as running
pid_alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }
alive() { [[ -s $1 ]] && pid_alive "$(cat "$1")"; }
wait_for() {  # wait_for <tries of 0.2 s> <command...>
  local n=$1; shift
  for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done
  return 1
}
stop_pf() {  # stop_pf <pidfile> <name>: TERM, wait 10 s, KILL
  local pf=$1 pid
  if alive "$pf"; then
    pid=$(cat "$pf"); kill -TERM "$pid" 2>/dev/null || true
    wait_for 50 eval "! pid_alive $pid" || { echo "$2 ($pid) ignored SIGTERM, SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    echo "stopped $2 ($pid)"
  fi
  rm -f "$pf"
}

# --- munge: our own key, socket and daemon -------------------------------------------------
munge_ok() { munge -S "$MUNGE/munge.socket" -n 2>/dev/null | unmunge -S "$MUNGE/munge.socket" >/dev/null 2>&1; }
munge_up() {
  mkdir -p "$MUNGE"; chmod 755 "$DIR" "$MUNGE"
  if [[ ! -s $MUNGE/munge.key ]]; then
    dd if=/dev/urandom of="$MUNGE/munge.key" bs=1 count=1024 status=none; chmod 400 "$MUNGE/munge.key"
  fi
  alive "$MUNGE/munged.pid" && munge_ok && return 0
  rm -f "$MUNGE/munge.socket" "$MUNGE/munge.socket.lock"
  # -f: run as root with our own key/socket paths (munged otherwise insists on its own user)
  munged -f --socket="$MUNGE/munge.socket" --key-file="$MUNGE/munge.key" \
    --pid-file="$MUNGE/munged.pid" --log-file="$MUNGE/munged.log" --seed-file="$MUNGE/munged.seed"
  wait_for 50 munge_ok || { echo "munged did not come up"; tail -n 5 "$MUNGE/munged.log"; exit 1; }
}
munge_down() {
  # still needed while either SLURM runs
  alive "$DIR/slurm1/slurmctld.pid" || alive "$DIR/slurm2/slurmctld.pid" || stop_pf "$MUNGE/munged.pid" munged
}

# --- slurm.conf shared by both clusters ------------------------------------------------------
slurm_conf() {  # slurm_conf <dir> <cluster name> <controller> <ctld port> <slurmd port> <node lines>
  local d=$1
  mkdir -p "$d"/state "$d"/spool
  cat > "$d/slurm.conf" <<EOF
ClusterName=$2
SlurmctldHost=$3
SlurmctldPort=$4
SlurmdPort=$5
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job may start again after this many seconds (120 by default); the
# scheduler pass that then starts it runs every sched_interval seconds (60 by default)
AuthInfo=socket=$MUNGE/munge.socket,cred_expire=10
SchedulerParameters=sched_interval=2
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# a job asking more than the nodes have is refused at once instead of pending forever
EnforcePartLimits=ALL
SlurmdParameters=config_overrides
# seconds between SIGTERM and SIGKILL when a job ends early (scancel, requeue, time limit): ranks
# stopping on SIGTERM write their checkpoint in it (SLURM's default is 30)
KillWait=30
# sbatch --wait polls after 2, 10, 42 s, unless MinJobAge/2 > 2 s: that holds the poll at 2 s
MinJobAge=4
SlurmctldPidFile=$d/slurmctld.pid
SlurmdPidFile=$d/slurmd-%n.pid
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/%n
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd-%n.log
$6
EOF
}

nodes_idle() {  # nodes_idle <n nodes> [nsenter prefix...]: every node idle
  local n=$1; shift
  [[ $("$@" sinfo -h -N -o '%t' 2>/dev/null | grep -c '^idle$') == "$n" ]]
}

slurm1_up() {
  munge_up
  local d=$DIR/slurm1
  export SLURM_CONF=$d/slurm.conf
  if ! alive "$d/slurmctld.pid" || ! alive "$d/slurmd-localhost.pid"; then
    slurm_conf "$d" ci1 localhost "$CTLD_PORT" "$SLURMD_PORT" \
      "NodeName=localhost NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP"
    alive "$d/slurmctld.pid" || slurmctld -c -f "$SLURM_CONF"   # -c: no job state from an earlier run
    alive "$d/slurmd-localhost.pid" || slurmd -c -N localhost -f "$SLURM_CONF"
  fi
  wait_for 150 nodes_idle 1 || {
    scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true
    wait_for 50 nodes_idle 1 || { echo "slurm1: node not idle"; sinfo -N || true; tail -n 20 "$d"/*.log; exit 1; }
  }
  echo "slurm1 up: SLURM_CONF=$SLURM_CONF"
}
slurm1_down() {
  local d=$DIR/slurm1
  if alive "$d/slurmctld.pid"; then SLURM_CONF=$d/slurm.conf scancel --quiet -u root 2>/dev/null || true; fi
  stop_pf "$d/slurmd-localhost.pid" slurmd
  stop_pf "$d/slurmctld.pid" slurmctld
  munge_down
}

# --- two hosts: network namespaces joined by a veth pair, an sshd in each --------------------
in_ns() { local i=$1; shift; nsenter --net=/run/netns/"${NS[$i]}" "$@"; }
ssh_files() {
  mkdir -p "$SSH_DIR"; chmod 700 "$SSH_DIR"
  [[ -s $SSH_DIR/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/id_ed25519"
  [[ -s $SSH_DIR/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_ed25519"
  cp "$SSH_DIR/id_ed25519.pub" "$SSH_DIR/authorized_keys"; chmod 600 "$SSH_DIR/authorized_keys"
  cat > "$SSH_DIR/sshd_config" <<EOF
Port 22
HostKey $SSH_DIR/host_ed25519
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $SSH_DIR/authorized_keys
StrictModes no
UsePAM no
PermitUserEnvironment no
EOF
  # client side, used with ssh -F / PDSH_SSH_ARGS_APPEND="-F ..."; ~/.ssh and /etc/ssh untouched
  cat > "$SSH_DIR/ssh_config" <<EOF
Host ${IPS[*]}
  IdentityFile $SSH_DIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSH_DIR/known_hosts
  StrictHostKeyChecking no
  PasswordAuthentication no
  LogLevel ERROR
  ConnectTimeout 10
EOF
  mkdir -p /run/sshd; chmod 755 /run/sshd   # sshd's privilege separation directory
}
netns_up() {
  ssh_files
  if ! ip netns list | grep -qw "${NS[0]}"; then
    ip netns add "${NS[0]}"; ip netns add "${NS[1]}"
    # the same interface name in both "hosts", so one GLOO_SOCKET_IFNAME=veth0 fits every rank
    ip link add veth0 netns "${NS[0]}" type veth peer name veth0 netns "${NS[1]}"
    for i in 0 1; do
      ip -n "${NS[$i]}" addr add "${IPS[$i]}/24" dev veth0
      ip -n "${NS[$i]}" link set lo up
      ip -n "${NS[$i]}" link set veth0 up
    done
  fi
  local i pf
  for i in 0 1; do
    pf=$SSH_DIR/sshd_${NS[$i]}.pid
    alive "$pf" || in_ns "$i" /usr/sbin/sshd -f "$SSH_DIR/sshd_config" -o ListenAddress="${IPS[$i]}" \
      -o PidFile="$pf" -E "$SSH_DIR/sshd_${NS[$i]}.log"
    wait_for 50 alive "$pf" || { echo "sshd in ${NS[$i]} did not start"; cat "$SSH_DIR/sshd_${NS[$i]}.log"; exit 1; }
  done
  in_ns 0 timeout 20 ssh -F "$SSH_DIR/ssh_config" "${IPS[1]}" true
  in_ns 1 timeout 20 ssh -F "$SSH_DIR/ssh_config" "${IPS[0]}" true
  echo "netns up: ${NS[0]}=${IPS[0]} ${NS[1]}=${IPS[1]}, ssh ok"
}
ns_pids() {  # live (non-zombie) processes inside namespace $1: all of them were started by us
  local p
  for p in $(ip netns pids "$1" 2>/dev/null); do pid_alive "$p" && echo "$p"; done
}
netns_down() {
  local n pids
  for n in "${NS[@]}"; do stop_pf "$SSH_DIR/sshd_$n.pid" "sshd ($n)"; done
  for n in "${NS[@]}"; do
    ip netns list | grep -qw "$n" || continue
    pids=$(ns_pids "$n")
    if [[ -n $pids ]]; then  # ranks a pdsh/ssh launch left behind
      echo "stopping leftovers in $n: $pids"; kill -TERM $pids 2>/dev/null || true
      wait_for 25 eval "[[ -z \$(ns_pids $n) ]]" || kill -KILL $(ns_pids "$n") 2>/dev/null || true
    fi
    ip netns del "$n"; echo "deleted netns $n"
  done
}

slurm2_up() {
  ip netns list | grep -qw "${NS[0]}" || { echo "slurm2: run netns-up first"; exit 1; }
  munge_up
  local d=$DIR/slurm2
  export SLURM_CONF=$d/slurm.conf
  if ! alive "$d/slurmctld.pid" || ! alive "$d/slurmd-n1.pid" || ! alive "$d/slurmd-n2.pid"; then
    # the controller's name must be this machine's hostname; its address is the namespace's
    slurm_conf "$d" ci2 "$(hostname -s)(${IPS[0]})" 6817 6818 \
      "NodeName=${NODES[0]} NodeAddr=${IPS[0]} CPUs=$CPUS State=UNKNOWN
NodeName=${NODES[1]} NodeAddr=${IPS[1]} CPUs=$CPUS State=UNKNOWN
PartitionName=debug Nodes=${NODES[0]},${NODES[1]} Default=YES MaxTime=INFINITE State=UP"
    # nsenter --net, not `ip netns exec`: that remounts /sys and slurmd then misses the cgroup fs
    alive "$d/slurmctld.pid" || in_ns 0 slurmctld -c -f "$SLURM_CONF"
    alive "$d/slurmd-n1.pid" || in_ns 0 slurmd -c -N n1 -f "$SLURM_CONF"
    alive "$d/slurmd-n2.pid" || in_ns 1 slurmd -c -N n2 -f "$SLURM_CONF"
  fi
  wait_for 150 nodes_idle 2 in_ns 0 || {
    in_ns 0 scontrol update nodename=n1,n2 state=resume >/dev/null 2>&1 || true
    wait_for 50 nodes_idle 2 in_ns 0 || { echo "slurm2: nodes not idle"; in_ns 0 sinfo -N || true; tail -n 20 "$d"/*.log; exit 1; }
  }
  echo "slurm2 up: SLURM_CONF=$SLURM_CONF (clients inside ${NS[0]})"
}
slurm2_down() {
  local d=$DIR/slurm2
  if alive "$d/slurmctld.pid" && ip netns list | grep -qw "${NS[0]}"; then
    SLURM_CONF=$d/slurm.conf in_ns 0 scancel --quiet -u root 2>/dev/null || true
  fi
  stop_pf "$d/slurmd-n1.pid" "slurmd n1"; stop_pf "$d/slurmd-n2.pid" "slurmd n2"
  stop_pf "$d/slurmctld.pid" "slurmctld (2 nodes)"
  munge_down
}

status() {
  local pf
  for pf in "$MUNGE/munged.pid" "$DIR"/slurm1/*.pid "$DIR"/slurm2/*.pid "$SSH_DIR"/*.pid; do
    [[ -e $pf ]] || continue
    if alive "$pf"; then echo "up   $pf ($(cat "$pf"))"; else echo "down $pf"; fi
  done
  ip netns list | grep -E "${NS[0]}|${NS[1]}" || true
}

case ${1:-} in
  slurm1-up) slurm1_up ;;
  slurm1-down) slurm1_down ;;
  netns-up) netns_up ;;
  netns-down) netns_down ;;
  slurm2-up) slurm2_up ;;
  slurm2-down) slurm2_down ;;
  down) slurm2_down; slurm1_down; netns_down; stop_pf "$MUNGE/munged.pid" munged ;;
  status) status ;;
  *) echo "usage: $0 slurm1-up|slurm1-down|netns-up|netns-down|slurm2-up|slurm2-down|down|status" >&2; exit 2 ;;
esac

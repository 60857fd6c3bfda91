#!/usr/bin/env bash
# Train on a SLURM cluster, one srun task per device (MMOCR 0.x's slurm_train.sh interface).
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=""] [GPU_GRES=1] [MASTER_PORT=] \
#   [PYTHON=] launch/slurm.sh PARTITION JOB_NAME CONFIG WORK_DIR [PY_ARGS...]
#
# GPUS           tasks (= devices) in all; more than GPUS_PER_NODE spans several nodes
# GPUS_PER_NODE  tasks per node (capped at GPUS)
# CPUS_PER_TASK  --cpus-per-task
# SRUN_ARGS      extra srun flags, split on spaces (e.g. "--time=1:00:00 --qos=normal")
# GPU_GRES       1: ask srun for --gres=gpu:<tasks per node>; 0: ask for no GPUs, for CPU
#                partitions and clusters without GRES (there --gres makes srun fail)
# MASTER_PORT    rendezvous port; default: a random free port in 12000-31999. A config's
#                dist_params.port wins over both (as in mmcv)
# PYTHON         interpreter; default: this checkout's .venv/bin/python if present, else python
# STOP_SIGNAL    e.g. USR1@120: srun --signal=USR1@120 (SIGUSR1 to every task 120 s before the
#                time limit, --time in SRUN_ARGS) and train.py --stop-signal SIGUSR1: the ranks
#                finish their iteration, write a checkpoint and exit 75 (a bare name, e.g. USR1,
#                only makes train.py stop on it, for `scancel --signal=USR1 JOBID`). Default:
#                USR2 (train.py --stop-signal SIGUSR2, no srun --signal). SIGINT or SIGTERM to
#                this script sends it to every task (through srun): the ranks stop the same way
# REQUEUE        1: when the job stopped that way (exit 75), run it again as a new job with
#                --auto-resume, until it exits otherwise or this script gets SIGINT/SIGTERM
#                (srun jobs cannot be requeued; sbatch launch/sbatch_train.sh can)
#
# Runs: srun ... $PYTHON -u ocr_ds/train.py CONFIG --work-dir=WORK_DIR --launcher slurm PY_ARGS
# and exits with srun's code (--kill-on-bad-exit=1: one failed task ends the whole step).
set -euo pipefail

usage() { sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; }
if (( $# < 4 )); then usage; exit 2; fi
PARTITION=$1; JOB_NAME=$2; CONFIG=$3; WORK_DIR=$4; shift 4

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
GPU_GRES=${GPU_GRES:-1}
STOP_SIGNAL=${STOP_SIGNAL:-}
REQUEUE=${REQUEUE:-0}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
for var in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || { echo "error: $var: expected a positive integer (got '${!var}')" >&2; exit 2; }
done
[[ $GPU_GRES == [01] ]] || { echo "error: GPU_GRES: expected 0 or 1 (got '$GPU_GRES')" >&2; exit 2; }
[[ $REQUEUE == [01] ]] || { echo "error: REQUEUE: expected 0 or 1 (got '$REQUEUE')" >&2; exit 2; }
[[ -z $STOP_SIGNAL || $STOP_SIGNAL =~ ^(SIG)?[A-Z0-9]+(@[0-9]+)?$ ]] \
  || { echo "error: STOP_SIGNAL: expected a signal name, optionally @seconds, e.g. USR1@120 (got '$STOP_SIGNAL')" >&2; exit 2; }
TASKS_PER_NODE=$(( GPUS < GPUS_PER_NODE ? GPUS : GPUS_PER_NODE ))

port_free() {  # nobody listens on $1 here (the submit host; rank 0 checks again where it runs)
  "$PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null
}
if [[ -z ${MASTER_PORT:-} ]]; then
  for _ in $(seq 50); do
    MASTER_PORT=$(( 12000 + RANDOM % 20000 ))
    port_free "$MASTER_PORT" && break
  done
fi
export MASTER_PORT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# DeepSpeed's JIT-built ops from this venv's own build (make setup), not the per-user cache
# that every checkout shares and rebuilds in turn (train.py falls back to the same directory)
if [[ -z ${TORCH_EXTENSIONS_DIR:-} && $PYTHON == */* && -f $(dirname "$PYTHON")/../pyvenv.cfg ]]; then
  TORCH_EXTENSIONS_DIR=$(cd "$(dirname "$PYTHON")/.." && pwd)/torch_extensions
  export TORCH_EXTENSIONS_DIR
fi
# the interpreter's bin dir first, as an activated venv has it: DeepSpeed JIT-builds a small comm
# op with the first `ninja` on PATH, and a ninja of another version rebuilds it (~60 s per run)
if [[ $PYTHON == */* ]]; then export PATH="$(dirname "$PYTHON"):$PATH"; fi

# OCR_DS_ENTRY=test (set by launch/slurm_test.sh): run ocr_ds/test.py CONFIG CHECKPOINT instead,
# the fourth argument being the checkpoint
if [[ ${OCR_DS_ENTRY:-train} == test ]]; then
  MAIN=("$ROOT/ocr_ds/test.py" "$CONFIG" "$WORK_DIR")
else
  MAIN=("$ROOT/ocr_ds/train.py" "$CONFIG" --work-dir="$WORK_DIR")
fi
# the flags and the config checked once, here on the submit host, before srun starts the tasks:
# bad input is one line and exit 2, not one line per task
WORLD_SIZE=$GPUS OCR_DS_CHECK_ONLY=1 "$PYTHON" "${MAIN[@]}" "$@"
GRES=()
if (( GPU_GRES )); then GRES=(--gres="gpu:$TASKS_PER_NODE"); fi
# the ranks' stop signal: STOP_SIGNAL's, else SIGUSR2 (srun forwards both to every task as
# they are, whereas a SIGTERM to srun makes it SIGKILL the step at once)
SIGNAL=() STOP_NAME=USR2
if [[ -n $STOP_SIGNAL ]]; then
  STOP_NAME=${STOP_SIGNAL%@*}; STOP_NAME=${STOP_NAME#SIG}
  if [[ $STOP_SIGNAL == *@* ]]; then SIGNAL=(--signal="$STOP_NAME@${STOP_SIGNAL#*@}"); fi
fi
STOP=(--stop-signal "SIG$STOP_NAME")
if [[ ${OCR_DS_ENTRY:-train} == test ]]; then STOP=(); REQUEUE=0; fi  # test.py: no stop/resume
EXIT_STOPPED=75  # ocr_ds/train.py: stopped on request after writing a checkpoint
RESUME=()
SRUN=
# SIGINT/SIGTERM to this script alone (Ctrl-C, `timeout`, a supervisor, a CI runner) send the
# stop signal through srun to every task: the ranks stop cleanly (checkpoint, exit 75) and the
# script then ends for good. (srun runs in the background so that the trap runs at once.)
trap 'REQUEUE=0; [[ -z $SRUN ]] || kill -s "$STOP_NAME" "$SRUN" 2>/dev/null || true' INT TERM
while true; do
  # SRUN_ARGS is split on purpose (several flags in one variable, as in MMOCR)
  # shellcheck disable=SC2086
  set -x
  srun -p "$PARTITION" --job-name="$JOB_NAME" "${GRES[@]}" --ntasks="$GPUS" \
    --ntasks-per-node="$TASKS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
    "${SIGNAL[@]}" $SRUN_ARGS "$PYTHON" -u "${MAIN[@]}" --launcher slurm "${STOP[@]}" "${RESUME[@]}" "$@" &
  SRUN=$!
  { set +x; } 2>/dev/null
  # a trapped signal interrupts `wait`: wait again until srun has really finished
  while true; do
    wait "$SRUN" && rc=0 || rc=$?
    kill -0 "$SRUN" 2>/dev/null || break
  done
  SRUN=
  if (( rc != EXIT_STOPPED || ! REQUEUE )); then exit "$rc"; fi
  echo "slurm.sh: training stopped after a checkpoint (exit $rc); starting it again (REQUEUE=1)" >&2
  RESUME=(--auto-resume)
done

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
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
for var in GPUS GPUS_PER_NODE CPUS_PER_TASK; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || { echo "error: $var: expected a positive integer (got '${!var}')" >&2; exit 2; }
done
[[ $GPU_GRES == [01] ]] || { echo "error: GPU_GRES: expected 0 or 1 (got '$GPU_GRES')" >&2; exit 2; }
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
# SRUN_ARGS is split on purpose (several flags in one variable, as in MMOCR)
# shellcheck disable=SC2086
set -x
exec srun -p "$PARTITION" --job-name="$JOB_NAME" "${GRES[@]}" --ntasks="$GPUS" \
  --ntasks-per-node="$TASKS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
  $SRUN_ARGS "$PYTHON" -u "${MAIN[@]}" --launcher slurm "$@"

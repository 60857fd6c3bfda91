#!/usr/bin/env bash
# Batch form of launch/slurm.sh: submit with sbatch, one task per device.
#
#   cd <this checkout> && sbatch -p PARTITION --ntasks=8 --ntasks-per-node=8 --cpus-per-task=5 \
#     --gres=gpu:8 [--wait] launch/sbatch_train.sh CONFIG WORK_DIR [PY_ARGS...]
#
# Leave out --gres on CPU partitions. sbatch flags win over the #SBATCH defaults below. sbatch runs
# a copy of this file, so the checkout is found through OCR_DS_ROOT, else the directory sbatch was
# called from. PYTHON: default that checkout's .venv/bin/python if present, else python. The
# master port is derived from the job id (a config's dist_params.port or MASTER_PORT win).
#SBATCH --job-name=ocr_ds
#SBATCH --output=%x-%j.out
#SBATCH --ntasks=8
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=5
set -euo pipefail
if (( $# < 2 )); then echo "usage: sbatch [flags] launch/sbatch_train.sh CONFIG WORK_DIR [PY_ARGS...]" >&2; exit 2; fi
CONFIG=$1; WORK_DIR=$2; shift 2
ROOT=${OCR_DS_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
[[ -f $ROOT/ocr_ds/train.py ]] || { echo "error: no ocr_ds checkout at $ROOT: submit from it or set OCR_DS_ROOT" >&2; exit 2; }
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# the interpreter's bin dir first (DeepSpeed JIT-builds a comm op with the first ninja on PATH)
if [[ $PYTHON == */* ]]; then export PATH="$(dirname "$PYTHON"):$PATH"; fi
# the flags and the config checked once, in this one process, before srun starts the tasks:
# bad input is one line in the job's log and exit 2, not one line per task
WORLD_SIZE=${SLURM_NTASKS:-1} OCR_DS_CHECK_ONLY=1 "$PYTHON" "$ROOT/ocr_ds/train.py" "$CONFIG" \
  --work-dir="$WORK_DIR" "$@"
set -x
srun --kill-on-bad-exit=1 "$PYTHON" -u "$ROOT/ocr_ds/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
  --launcher slurm "$@"

#!/usr/bin/env bash
# Batch form of launch/slurm.sh: submit with sbatch, one task per device.
#
#   cd <this checkout> && sbatch -p PARTITION --ntasks=8 --ntasks-per-node=8 --cpus-per-task=5 \
#     --gres=gpu:8 [--wait] [--time=24:00:00] launch/sbatch_train.sh CONFIG WORK_DIR [PY_ARGS...]
#
# Leave out --gres on CPU partitions. sbatch flags win over the #SBATCH defaults below. sbatch runs
# a copy of this file, so the checkout is found through OCR_DS_ROOT, else the directory sbatch was
# called from. PYTHON: default that checkout's .venv/bin/python if present, else python. The
# master port is derived from the job id (a config's dist_params.port or MASTER_PORT win).
#
# Preemption and requeue (README "Preemption and requeue"): the job is requeueable (--requeue)
# and asks for SIGUSR1 120 s before its time limit (--signal=B:USR1@120; STOP_SIGNAL names
# another, e.g. sbatch --signal=B:USR2@300 with STOP_SIGNAL=USR2). On that signal the ranks
# finish their iteration, write a checkpoint and exit 75; the script then requeues the job
# (scontrol requeue). On SIGTERM from SLURM (scancel, scontrol requeue, preemption) the ranks do
# the same and SLURM decides whether the job comes back. A job that comes back
# (SLURM_RESTART_COUNT > 0) continues from its newest checkpoint (--auto-resume). Logs of every
# run append to one output file (--open-mode=append).
#SBATCH --job-name=ocr_ds
#SBATCH --output=%x-%j.out
#SBATCH --open-mode=append
#SBATCH --ntasks=8
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=5
#SBATCH --requeue
#SBATCH --signal=B:USR1@120
set -euo pipefail
if (( $# < 2 )); then echo "usage: sbatch [flags] launch/sbatch_train.sh CONFIG WORK_DIR [PY_ARGS...]" >&2; exit 2; fi
CONFIG=$1; WORK_DIR=$2; shift 2
ROOT=${OCR_DS_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
[[ -f $ROOT/ocr_ds/train.py ]] || { echo "error: no ocr_ds checkout at $ROOT: submit from it or set OCR_DS_ROOT" >&2; exit 2; }
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
STOP_SIGNAL=${STOP_SIGNAL:-USR1}
STOP_SIGNAL=${STOP_SIGNAL#SIG}
EXIT_STOPPED=75  # ocr_ds/train.py: stopped on request after writing a checkpoint
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# DeepSpeed's JIT-built ops from this venv's own build (make setup), not the per-user cache
# that every checkout shares and rebuilds in turn (train.py falls back to the same directory)
if [[ -z ${TORCH_EXTENSIONS_DIR:-} && $PYTHON == */* && -f $(dirname "$PYTHON")/../pyvenv.cfg ]]; then
  TORCH_EXTENSIONS_DIR=$(cd "$(dirname "$PYTHON")/.." && pwd)/torch_extensions
  export TORCH_EXTENSIONS_DIR
fi
# the interpreter's bin dir first (DeepSpeed JIT-builds a comm op with the first ninja on PATH)
if [[ $PYTHON == */* ]]; then export PATH="$(dirname "$PYTHON"):$PATH"; fi
# the flags and the config checked once, in this one process, before srun starts the tasks:
# bad input is one line in the job's log and exit 2, not one line per task
WORLD_SIZE=${SLURM_NTASKS:-1} OCR_DS_CHECK_ONLY=1 "$PYTHON" "$ROOT/ocr_ds/train.py" "$CONFIG" \
  --work-dir="$WORK_DIR" "$@"
RESUME=()
if (( ${SLURM_RESTART_COUNT:-0} > 0 )); then
  RESUME=(--auto-resume)
  echo "sbatch_train.sh: run $((SLURM_RESTART_COUNT + 1)) of job ${SLURM_JOB_ID:-?}: continuing from the newest checkpoint" >&2
fi

SRUN=
ENDING=0    # SLURM itself is ending this run (SIGTERM): it decides about a requeue
STOPPING=0  # we passed the stop signal on
# pass the signals on to srun, which passes them to every task
trap 'STOPPING=1; [[ -z $SRUN ]] || kill -s "$STOP_SIGNAL" "$SRUN" 2>/dev/null || true' "$STOP_SIGNAL"
# (as the stop signal: srun answers a SIGTERM of its own by SIGKILLing every task at once)
trap 'ENDING=1; [[ -z $SRUN ]] || kill -s "$STOP_SIGNAL" "$SRUN" 2>/dev/null || true' TERM
set -x
srun --kill-on-bad-exit=1 "$PYTHON" -u "$ROOT/ocr_ds/train.py" "$CONFIG" --work-dir="$WORK_DIR" \
  --launcher slurm --stop-signal "SIG$STOP_SIGNAL" "${RESUME[@]}" "$@" &
SRUN=$!
{ set +x; } 2>/dev/null
# a trapped signal interrupts `wait`: wait again until srun has really finished
rc=0
while true; do
  wait "$SRUN" && rc=0 || rc=$?
  kill -0 "$SRUN" 2>/dev/null || break
done
# exit 75: stopped after a checkpoint; stopped on our signal before training started (the
# signal then ends a rank at once): nothing lost either; both come back
if (( ! ENDING && (rc == EXIT_STOPPED || (STOPPING && rc != 0)) )); then
  echo "sbatch_train.sh: training stopped (exit $rc); requeueing job $SLURM_JOB_ID" >&2
  scontrol requeue "$SLURM_JOB_ID" || echo "sbatch_train.sh: could not requeue the job (submitted" \
    "with --no-requeue?); continue it with --auto-resume" >&2
fi
exit "$rc"

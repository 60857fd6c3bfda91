#!/usr/bin/env bash
# Train on the machines of a DeepSpeed hostfile, after checking the hostfile (exit 2 and one
# line if it is bad; DeepSpeed itself answers a bad hostfile with a traceback, and a missing one
# by training on this machine only).
#
#   [DS_ARGS="--master_addr 10.0.0.1 ..."] [PYTHON=] launch/ds_train.sh HOSTFILE CONFIG WORK_DIR [PY_ARGS...]
#
# HOSTFILE  DeepSpeed's format: '<host> slots=<N>' lines, '#' comments (launch/hostfile.example)
# DS_ARGS   extra flags for the deepspeed launcher (--master_addr, --master_port, --no_ssh,
#           --node_rank, --venv_script, --include, ...), split on spaces
# PYTHON    interpreter; default: this checkout's .venv/bin/python if present, else python
set -euo pipefail

if (( $# < 3 )); then sed -n '5p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; fi
HOSTFILE=$1; CONFIG=$2; WORK_DIR=$3; shift 3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# DeepSpeed's JIT-built ops from this venv's own build (make setup), not the per-user cache
# that every checkout shares and rebuilds in turn (train.py falls back to the same directory)
if [[ -z ${TORCH_EXTENSIONS_DIR:-} && $PYTHON == */* && -f $(dirname "$PYTHON")/../pyvenv.cfg ]]; then
  TORCH_EXTENSIONS_DIR=$(cd "$(dirname "$PYTHON")/.." && pwd)/torch_extensions
  export TORCH_EXTENSIONS_DIR
fi
if [[ $PYTHON == */* ]]; then export PATH="$(dirname "$PYTHON"):$PATH"; fi

"$PYTHON" -m ocr_ds.engine.hostfile "$HOSTFILE" || exit $?

read -r -a ds_args <<< "${DS_ARGS:-}"
set -x
exec "$PYTHON" -m deepspeed.launcher.runner --hostfile "$HOSTFILE" "${ds_args[@]}" \
  "$ROOT/ocr_ds/train.py" --config "$CONFIG" --work-dir "$WORK_DIR" "$@"

#!/usr/bin/env bash
# Train with several local ranks, on one machine or several started by hand (MMOCR 0.x's
# dist_train.sh interface), through torchrun (python -m torch.distributed.run).
#
#   [PORT=29500] [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PYTHON=] \
#   launch/dist_train.sh CONFIG WORK_DIR GPU_NUM [PY_ARGS...]
#
# GPU_NUM      ranks on this machine: GPUs, or CPU ranks on a machine without GPUs. With 1 (and
#              NNODES=1) train.py runs directly, without torchrun.
# NNODES       machines in the job; run this script once on each, with NODE_RANK 0..NNODES-1
# MASTER_ADDR  address of the NODE_RANK 0 machine (where torchrun's rendezvous store listens)
# PORT         rendezvous port. Unset on one machine: 29500 if free, else a free port (so two
#              jobs on one machine keep apart); unset on several machines: 29500. A port that
#              is in use on the NODE_RANK 0 machine is an error (exit 2).
# PYTHON       interpreter; default: this checkout's .venv/bin/python if present, else python
set -euo pipefail

usage() { sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; }
if (( $# < 3 )); then usage; exit 2; fi
CONFIG=$1; WORK_DIR=$2; GPU_NUM=$3; shift 3

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
if [[ -z ${PYTHON:-} ]]; then
  if [[ -x $ROOT/.venv/bin/python ]]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python; fi
fi
for var in GPU_NUM NNODES; do
  [[ ${!var} =~ ^[1-9][0-9]*$ ]] || { echo "error: $var: expected a positive integer (got '${!var}')" >&2; exit 2; }
done
[[ $NODE_RANK =~ ^[0-9]+$ ]] && (( NODE_RANK < NNODES )) \
  || { echo "error: NODE_RANK: expected 0..$((NNODES - 1)) (got '$NODE_RANK')" >&2; exit 2; }
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
# OCR_DS_ENTRY=test (set by launch/dist_test.sh): run ocr_ds/test.py CONFIG CHECKPOINT instead,
# the second argument being the checkpoint
if [[ ${OCR_DS_ENTRY:-train} == test ]]; then
  MAIN=("$ROOT/ocr_ds/test.py" "$CONFIG" "$WORK_DIR")
else
  MAIN=("$ROOT/ocr_ds/train.py" "$CONFIG" --work-dir="$WORK_DIR")
fi

if (( GPU_NUM == 1 && NNODES == 1 )); then
  set -x
  exec "$PYTHON" "${MAIN[@]}" "$@"
fi
# the flags and the config checked once, here, before any rank starts: bad input is one line and
# exit 2, not one line per rank followed by torchrun's report of the failed ranks
WORLD_SIZE=$(( GPU_NUM * NNODES )) OCR_DS_CHECK_ONLY=1 "$PYTHON" "${MAIN[@]}" "$@"

port_free() {  # nobody listens on port $1 on this machine
  "$PYTHON" -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))' "$1" 2>/dev/null
}
free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'; }

if [[ -z ${PORT:-} ]]; then
  PORT=29500
  if (( NNODES == 1 )) && ! port_free "$PORT"; then
    PORT=$(free_port)
    echo "dist_train.sh: port 29500 is in use, using free port $PORT (set PORT to choose)" >&2
  fi
elif ! [[ $PORT =~ ^[0-9]+$ ]] || (( PORT < 1 || PORT > 65535 )); then
  echo "error: PORT: expected a TCP port 1-65535 (got '$PORT')" >&2; exit 2
fi
# torchrun's agent on node 0 hosts the rendezvous store on PORT; taken, it fails with a traceback
if (( NODE_RANK == 0 )) && ! port_free "$PORT"; then
  echo "error: master port $PORT is already in use on $(hostname) (another job?): set PORT to a free port" >&2
  exit 2
fi

set -x
exec "$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
  --master_addr="$MASTER_ADDR" --master_port="$PORT" --nproc_per_node="$GPU_NUM" \
  "${MAIN[@]}" --launcher pytorch "$@"

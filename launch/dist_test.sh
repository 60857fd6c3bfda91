#!/usr/bin/env bash
# Evaluate a checkpoint with several local ranks, on one machine or several started by hand
# (MMOCR 0.x's dist_test.sh interface), through torchrun (python -m torch.distributed.run).
#
#   [PORT=29500] [NNODES=1] [NODE_RANK=0] [MASTER_ADDR=127.0.0.1] [PYTHON=] \
#   launch/dist_test.sh CONFIG CHECKPOINT GPUS [PY_ARGS...]
#
# GPUS      ranks on this machine: GPUs, or CPU ranks on a machine without GPUs. With 1 (and
#           NNODES=1) test.py runs directly, without torchrun.
# PY_ARGS   ocr_ds/test.py flags, e.g. --eval hmean-iou --out preds.json
# The variables mean what they mean for launch/dist_train.sh, which runs this job with
# OCR_DS_ENTRY=test: ocr_ds/test.py CONFIG CHECKPOINT --launcher pytorch PY_ARGS on every rank.
set -euo pipefail
if (( $# < 3 )); then sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; fi
OCR_DS_ENTRY=test exec "$(dirname "${BASH_SOURCE[0]}")/dist_train.sh" "$@"

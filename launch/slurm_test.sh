#!/usr/bin/env bash
# Evaluate a checkpoint on a SLURM cluster, one srun task per device (MMOCR 0.x's
# slurm_test.sh interface).
#
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=""] [GPU_GRES=1] [MASTER_PORT=] \
#   [PYTHON=] launch/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [PY_ARGS...]
#
# PY_ARGS   ocr_ds/test.py flags, e.g. --eval acc --out preds.json
# The variables mean what they mean for launch/slurm.sh (GPU_GRES=0 on CPU partitions and
# clusters without GRES), which runs this job with OCR_DS_ENTRY=test:
# srun ... ocr_ds/test.py CONFIG CHECKPOINT --launcher slurm PY_ARGS, exiting with srun's code.
set -euo pipefail
if (( $# < 4 )); then sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2; exit 2; fi
OCR_DS_ENTRY=test exec "$(dirname "${BASH_SOURCE[0]}")/slurm.sh" "$@"

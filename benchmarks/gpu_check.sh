#!/usr/bin/env bash
# GPU check: fp16 (static and dynamic loss scale) and bf16 training of DBNet-R18 and CRNN at ZeRO-0
# and ZeRO-2 through ocr_ds/train.py on one GPU, a fixed number of iterations each; reports
# images/s, peak GPU memory, loss-scale events and the last loss. Sized to finish in under 8
# minutes on one H100 (12 runs of ~20-30 s after a one-time data generation). Before them, the
# training step against MMOCR 0.6.3's own on the GPU (benchmarks/peer_step.py --device cuda: DBNet-R18
# and CRNN, fp32 and mixed precision, about 2 minutes; MMOCR's side from the wheels of
# gpu_wheels.sh). Then the ZeRO memory comparison (peak CUDA memory per rank, ocr_ds's ZeRO
# buffer sizes vs DeepSpeed's: 5 more short runs, about 2-3 minutes).
#
#   bash benchmarks/gpu_wheels.sh            # here, once: wheels the GPU machine lacks -> .whl/
#   bash benchmarks/gpu_check.sh             # there (installs .whl/*.whl into /tmp/site first)
#
# The report goes to stdout and to $OUT/gpu_check.md (+ the runs' logs as $OUT/logs.tar.gz) when
# OUT is set, else to work_dirs/gpu_check/. Knobs (environment):
#   GPU_CHECK_MODELS="crnn dbnet"  GPU_CHECK_ZERO="0 2"  GPU_CHECK_PREC="fp16_static fp16_dynamic bf16"
#   GPU_CHECK_BUDGET=450   seconds after which the remaining runs are skipped (and reported so)
#   GPU_CHECK_DEADLINE=570 seconds by which everything has ended: each part's time limit is cut
#                          to what is left, the report written in any case
#   GPU_CHECK_PEER=1       the peer step against MMOCR (default: on with a GPU and .whl/mmocr),
#   GPU_CHECK_PEER_ARGS="..." its benchmarks/peer_step.py arguments (default: --rounds 5 --steps 10),
#   GPU_CHECK_PEER_TIMEOUT=240 its time limit in seconds, GPU_CHECK_PEER_PYTHON its MMOCR side's
#   Python (default: this one, with .whl/mmocr installed into /tmp/mmocr_site)
#   GPU_CHECK_ZERO_MEMORY=1  the ZeRO memory comparison after the runs (default: on with a GPU);
#   GPU_CHECK_ZERO_MEMORY_ARGS="..." its benchmarks/zero_memory.py arguments (default: the wide
#   CRNN, 5 iterations of batch 16), GPU_CHECK_ZERO_MEMORY_TIMEOUT=300 its time limit in seconds
#   GPU_CHECK_CPU=1        plumbing check without a GPU: bf16 only, 3 tiny iterations per run
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=$PWD/.venv/bin/python
REPO=$PWD
WORK=${GPU_CHECK_WORK:-work_dirs/gpu_check}
REPORT_DIR=${OUT:-$WORK}
rm -rf "$WORK"; mkdir -p "$WORK" "$REPORT_DIR"
WORK=$(cd "$WORK" && pwd); REPORT_DIR=$(cd "$REPORT_DIR" && pwd)
export PYTHONUNBUFFERED=1

# 1. What this machine has. Wheels carried in .whl/ fill in what is missing (DeepSpeed etc.);
#    .whl/mmocr/ holds MMOCR 0.6.3's side of the peer step, installed apart.
if ls .whl/*.whl >/dev/null 2>&1 && ! "$PY" -c 'import deepspeed' 2>/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
MMOCR_SITE=
if ls .whl/mmocr/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/mmocr_site .whl/mmocr/*.whl && MMOCR_SITE=/tmp/mmocr_site
fi
DEADLINE=${GPU_CHECK_DEADLINE:-570}
# left CAP: the time limit for a part: CAP seconds, or less where the deadline is nearer (20 s
# kept for the report); at least 1 (timeout 0 would mean no limit at all)
left() { local l=$(( DEADLINE - 20 - ($(date +%s) - START) )); [ "$l" -gt "$1" ] && l=$1; [ "$l" -lt 1 ] && l=1; echo "$l"; }
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
{
    echo "# ocr_ds GPU check, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
        | sed 's/^/- GPU: /' || echo "- GPU: nvidia-smi not found"
    "$PY" - <<'EOF'
import importlib, platform
print(f"- python {platform.python_version()}")
for name in ("torch", "deepspeed", "numpy", "cv2", "lmdb", "pyclipper", "shapely", "rapidfuzz"):
    try:
        mod = importlib.import_module(name)
        extra = ""
        if name == "torch":
            extra = f" (CUDA {mod.version.cuda}, cuda available: {mod.cuda.is_available()}, " \
                    f"bf16 supported: {mod.cuda.is_available() and mod.cuda.is_bf16_supported()})"
        print(f"- {name} {getattr(mod, '__version__', '?')}{extra}")
    except Exception as exc:  # report, don't stop: the check below decides
        print(f"- {name}: MISSING ({type(exc).__name__}: {exc})")
EOF
} | tee "$WORK/env.md"
if ! "$PY" -c 'import torch, deepspeed' 2>/dev/null; then
    echo "gpu_check: torch or deepspeed cannot be imported (see above); nothing run" | tee -a "$WORK/env.md"
    cp "$WORK/env.md" "$REPORT_DIR/gpu_check.md"; exit 3
fi
HAVE_GPU=$("$PY" -c 'import torch; print(int(torch.cuda.is_available()))')

MODELS=${GPU_CHECK_MODELS:-crnn dbnet}
ZERO=${GPU_CHECK_ZERO:-0 2}
PRECS=${GPU_CHECK_PREC:-fp16_static fp16_dynamic bf16}
BUDGET=${GPU_CHECK_BUDGET:-450}
ZERO_MEMORY=${GPU_CHECK_ZERO_MEMORY:-$HAVE_GPU}
EXTRA=()
if [ "$HAVE_GPU" != 1 ]; then
    if [ "${GPU_CHECK_CPU:-0}" != 1 ]; then
        echo "gpu_check: no CUDA device; set GPU_CHECK_CPU=1 for a plumbing run on the CPU" | tee -a "$WORK/env.md"
        cp "$WORK/env.md" "$REPORT_DIR/gpu_check.md"; exit 3
    fi
    PRECS=bf16  # the CPU accelerator refuses fp16
    EXTRA=(runner.max_iters=3 checkpoint_config.interval=3 log_config.interval=1
           data.samples_per_gpu=2 data.workers_per_gpu=0 synth_data.num_train=32)
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
fi

# 2. DeepSpeed's FusedAdam is JIT-built on first use; build it once here, timed, and fall back to
#    torch.optim.Adam (torch_adam) if the build fails, so one broken toolchain does not fail all.
if [ "$HAVE_GPU" = 1 ]; then
    # DeepSpeed 0.19.8's JIT builder reads TORCH_CUDA_ARCH_LIST as numbers: an entry such as
    # '10.0a' (the H200 image sets one) failed the build with "invalid literal for int()";
    # build for this machine's GPUs instead
    if printf '%s' "${TORCH_CUDA_ARCH_LIST:-}" | grep -q '[0-9][a-zA-Z]'; then
        was=$TORCH_CUDA_ARCH_LIST
        TORCH_CUDA_ARCH_LIST=$("$PY" -c 'import torch; print(";".join(sorted({"%d.%d" % torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())})))')
        export TORCH_CUDA_ARCH_LIST
        echo "- TORCH_CUDA_ARCH_LIST '$was' -> '$TORCH_CUDA_ARCH_LIST' (DeepSpeed cannot parse the former)" | tee -a "$WORK/env.md"
    fi
    t0=$(date +%s)
    if "$PY" -c 'from deepspeed.ops.op_builder import FusedAdamBuilder; FusedAdamBuilder().load()' \
            >"$WORK/fused_adam_build.log" 2>&1; then
        echo "- FusedAdam built in $(( $(date +%s) - t0 )) s" | tee -a "$WORK/env.md"
    else
        echo "- FusedAdam build FAILED ($(tail -1 "$WORK/fused_adam_build.log")); runs use torch_adam" | tee -a "$WORK/env.md"
        EXTRA+=(deepspeed.optimizer.params.torch_adam=True)
    fi
fi

# 3. The training step against MMOCR 0.6.3's own on this GPU (issue: faster than MMOCR on the
#    same model): DBNet-R18 and CRNN, ours default/best/fp16/fp16_autocast/fp16_zero1/bf16
#    against MMOCR fp32/fp16; the `skipped` column counts the loss scalers' skipped steps.
#    Without a GPU (GPU_CHECK_CPU=1 GPU_CHECK_PEER=1, a plumbing check): the CPU, CRNN, one step.
PEER=${GPU_CHECK_PEER:-$HAVE_GPU}
PEER_DEVICE=cuda PEER_ARGS="--rounds 5 --steps 10"
[ "$HAVE_GPU" = 1 ] || { PEER_DEVICE=cpu PEER_ARGS="--quick --models crnn --rounds 1 --steps 1"; }
: > "$WORK/peer_step.md"
if [ "$PEER" = 1 ]; then
    if [ -z "$MMOCR_SITE" ] && ! "${GPU_CHECK_PEER_PYTHON:-$PY}" -c 'import mmocr' 2>/dev/null; then
        echo "peer_step: SKIPPED (no .whl/mmocr: bash benchmarks/gpu_wheels.sh here first)" > "$WORK/peer_step.md"
    else
        echo "== peer_step"
        # shellcheck disable=SC2086  # GPU_CHECK_PEER_ARGS: several arguments
        timeout "$(left "${GPU_CHECK_PEER_TIMEOUT:-240}")" "$PY" "$REPO/benchmarks/peer_step.py" \
            --device "$PEER_DEVICE" --ref-python "${GPU_CHECK_PEER_PYTHON:-$PY}" \
            ${MMOCR_SITE:+--ref-path "$MMOCR_SITE"} ${GPU_CHECK_PEER_ARGS:-$PEER_ARGS} \
            --json "$WORK/peer_step.json" \
            >"$WORK/peer_step.out" 2>&1
        rc=$?
        { echo; echo "## Training step vs MMOCR 0.6.3 (benchmarks/peer_step.py --device $PEER_DEVICE, exit $rc)"
          echo; echo '```'; grep -v "^\[" "$WORK/peer_step.out" | tail -25; echo '```'
        } > "$WORK/peer_step.md"
        cat "$WORK/peer_step.md"
    fi
fi

# 4. The runs. The first run of each model generates its data set (synth_data); its images/s
#    leave out the first logged interval, so the generation does not count.
#    The runs start in $WORK, so the generated data lands in $WORK/data.
declare -A CONFIG=([crnn]=$REPO/benchmarks/gpu_check/crnn_gpu_check.py
                   [dbnet]=$REPO/benchmarks/gpu_check/dbnet_r18_gpu_check.py)
cd "$WORK"
declare -A PREC=([fp16_static]="fp16.loss_scale=512.0" [fp16_dynamic]="fp16.loss_scale=dynamic"
                 [bf16]="bf16.enabled=True")
for model in $MODELS; do
    for zero in $ZERO; do
        for prec in $PRECS; do
            run=${model}_${prec}_zero${zero}
            if [ $(( $(date +%s) - START )) -gt "$BUDGET" ] || [ "$(left 30)" -lt 30 ]; then
                echo "SKIPPED (budget ${BUDGET}s or deadline ${DEADLINE}s spent)" > "$WORK/$run.skipped"; continue
            fi
            echo "== $run"
            t0=$(date +%s)
            timeout "$(left 150)" "$PY" "$REPO/ocr_ds/train.py" "${CONFIG[$model]}" --work-dir "$WORK/$run" --seed 0 \
                --cfg-options ${PREC[$prec]} deepspeed.zero_optimization.stage=$zero "${EXTRA[@]}" \
                >"$WORK/$run.out" 2>&1
            rc=$?
            echo "$rc $(( $(date +%s) - t0 ))" > "$WORK/$run.rc"
            [ $rc -ne 0 ] && tail -5 "$WORK/$run.out"
        done
    done
done

# 5. ZeRO memory: peak CUDA memory (and state) per rank at ZeRO-0/2/3 with ocr_ds's buffer sizes
#    and DeepSpeed's, side by side, on the wide CRNN (benchmarks/zero_memory.py; 2 ranks when 2
#    GPUs are there, else 1: then ZeRO partitions nothing and only the buffers differ). Started
#    from $WORK, so it reads the words the CRNN runs generated (or generates them).
: > "$WORK/zero_memory.md"
if [ "$ZERO_MEMORY" = 1 ]; then
    if [ $(( $(date +%s) - START )) -gt "$BUDGET" ] || [ "$(left 60)" -lt 60 ]; then
        echo "zero_memory: SKIPPED (budget ${BUDGET}s or deadline ${DEADLINE}s spent)" > "$WORK/zero_memory.md"
    else
        echo "== zero_memory"
        ZRANKS=$("$PY" -c 'import torch; print(min(2, torch.cuda.device_count()) or 2)')
        ZARGS=${GPU_CHECK_ZERO_MEMORY_ARGS:-"--config $REPO/benchmarks/gpu_check/crnn_wide_gpu_check.py --iters 5 --batch 16"}
        # shellcheck disable=SC2086  # ZARGS: several arguments
        timeout "$(left "${GPU_CHECK_ZERO_MEMORY_TIMEOUT:-300}")" "$PY" "$REPO/benchmarks/zero_memory.py" \
            --ranks "$ZRANKS" --cwd "$WORK" $ZARGS --json "$WORK/zero_memory.json" \
            >"$WORK/zero_memory.out" 2>&1
        rc=$?
        { echo; echo "## ZeRO memory (benchmarks/zero_memory.py, exit $rc)"; echo; echo '```'
          grep -v "buffer sizes: [0-9]* ranks x" "$WORK/zero_memory.out" | tail -40; echo '```'
        } > "$WORK/zero_memory.md"
        cat "$WORK/zero_memory.md"
    fi
fi

# 6. The report.
"$PY" "$REPO/benchmarks/gpu_check_report.py" "$WORK" | tee "$WORK/report.md"
cat "$WORK/env.md" "$WORK/peer_step.md" "$WORK/report.md" "$WORK/zero_memory.md" > "$REPORT_DIR/gpu_check.md"
tar czf "$REPORT_DIR/logs.tar.gz" -C "$WORK" --exclude=./data --exclude='*.pt' \
    --exclude='*.pth' --exclude='global_step*' --exclude=logs.tar.gz . 2>/dev/null || true
echo "gpu_check: $(( $(date +%s) - START )) s in all; report in $REPORT_DIR/gpu_check.md"

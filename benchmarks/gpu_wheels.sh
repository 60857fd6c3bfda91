#!/usr/bin/env bash
# Fill .whl/ with the wheels benchmarks/gpu_check.sh needs on a GPU machine that has torch but
# neither DeepSpeed nor internet (Python 3.12, x86_64). Run here, where pip reaches the registry:
#
#   bash benchmarks/gpu_wheels.sh          # -> .whl/*.whl (ignored by git via .git/info/exclude)
#
# then carry .whl to the GPU machine; gpu_check.sh installs them into /tmp/site by itself.
# Versions are the ones installed in .venv, so the GPU run uses what the tests here used.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DEST=${DEST:-.whl}
mkdir -p "$DEST"
if [ -d .git ] && ! grep -qx '/.whl/' .git/info/exclude 2>/dev/null; then
    echo '/.whl/' >> .git/info/exclude
fi

version() { "$PY" -m pip show "$1" 2>/dev/null | sed -n 's/^Version: //p'; }

# DeepSpeed is published as a source archive; built without ops it is a pure-Python wheel.
DS_BUILD_OPS=0 "$PY" -m pip wheel -q --no-deps "deepspeed==$(version deepspeed)" -w "$DEST"

# DeepSpeed's and ocr_ds's needs that the GPU image lacks (it has numpy, einops, msgpack, ninja,
# psutil, py-cpuinfo, tqdm, opencv-python-headless, pyyaml, tensorboard).
PKGS="hjson pydantic pydantic-core annotated-types typing-inspection lmdb pyclipper shapely
      rapidfuzz pymemcache"
for pkg in $PKGS; do
    v=$(version "$pkg")
    if [ -z "$v" ]; then echo "gpu_wheels: $pkg is not installed in $PY; skipped" >&2; continue; fi
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d "$DEST" "$pkg==$v"
done
ls -1 "$DEST"
du -sh "$DEST"

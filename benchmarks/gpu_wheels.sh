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

# fetch PYTHON DEST PKG...: each PKG at PYTHON's installed version, as a cp312 x86_64 wheel
fetch() {
    local py=$1 dest=$2 pkg v; shift 2
    mkdir -p "$dest"
    for pkg in "$@"; do
        v=$("$py" -m pip show "$pkg" 2>/dev/null | sed -n 's/^Version: //p')
        if [ -z "$v" ]; then echo "gpu_wheels: $pkg is not installed in $py; skipped" >&2; continue; fi
        "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
            --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
            --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
            --platform manylinux1_x86_64 -d "$dest" "$pkg==$v"
    done
    ls -1 "$dest"
    du -sh "$dest"
}

# DeepSpeed is published as a source archive; built without ops it is a pure-Python wheel.
DS_BUILD_OPS=0 "$PY" -m pip wheel -q --no-deps "deepspeed==$(version deepspeed)" -w "$DEST"

# DeepSpeed's and ocr_ds's needs that the GPU image lacks (it has numpy, einops, msgpack, ninja,
# psutil, py-cpuinfo, tqdm, opencv-python-headless, pyyaml, tensorboard).
fetch "$PY" "$DEST" hjson pydantic pydantic-core annotated-types typing-inspection lmdb pyclipper \
    shapely rapidfuzz pymemcache

# MMOCR 0.6.3's side of benchmarks/peer_step.py --device cuda (gpu_check.sh installs these into
# /tmp/mmocr_site, apart from ocr_ds's): mmcv-lite 1.7.2 (built here without ops: pure Python),
# mmdet 2.28.2, mmocr 0.6.3 and what they import that the GPU image lacks, at the reference
# venv's versions (tests/parity/refenv.py builds it if needed).
REF=$("$PY" -c 'import sys; sys.path.insert(0, "tests/parity"); from refenv import ensure_venv; print(ensure_venv())')
mkdir -p "$DEST/mmocr"
MMCV_WITH_OPS=0 "$REF/bin/python" -m pip wheel -q --no-deps --no-build-isolation mmcv==1.7.2 \
    -w "$DEST/mmocr"
fetch "$REF/bin/python" "$DEST/mmocr" mmdet mmocr addict yapf importlib_metadata zipp \
    lazy_importer platformdirs tomli terminaltables pycocotools

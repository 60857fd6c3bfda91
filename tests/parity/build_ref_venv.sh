#!/usr/bin/env bash
# Build the MMOCR 0.6.3 reference virtualenv at $1 (the recipe of
# shared/notes/mmocr-0.6.3-reference): torch 2.13 CPU, mmcv 1.7.2 without compiled ops,
# mmdet 2.28.2, mmocr 0.6.3, from PyPI only. About 1-2 minutes. Writes $1/.complete last;
# a directory without it is an interrupted build (tests/parity/refenv.py removes it).
set -euo pipefail
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
"$python" -m venv "$dest"
pip=("$dest/bin/python" -m pip install -q --disable-pip-version-check --timeout 60)
"${pip[@]}" -U pip 'setuptools<81' wheel
"${pip[@]}" torch==2.13.0
# numpy<2: imgaug 0.4.0 (imported by mmocr.datasets) uses np.sctypes; opencv 4.11 is the last
# release for numpy 1.x; yapf 0.40.2 dropped the `verify=` mmcv 1.7.2 passes
"${pip[@]}" numpy==1.26.4 opencv-python-headless==4.11.0.86 scipy==1.17.1 scikit-image==0.26.0 \
    shapely==2.2.0 rapidfuzz==3.14.6 lmdb==3.0.0 pyclipper==1.4.0 pycocotools==2.0.11 \
    matplotlib==3.11.2 six terminaltables addict packaging pillow pyyaml yapf==0.40.1
# MMOCR's deployment tools' runtime (tools/deployment, mmocr.core.deployment), numpy held at 1.x
"${pip[@]}" numpy==1.26.4 onnx==1.23.2 onnxruntime==1.32.0
# MMOCR's TorchServe tools (mmocr2torchserve.py, mmocr_handler.py): the releases of its day
"${pip[@]}" torch-model-archiver==0.6.1 torchserve==0.6.1
# mmcv-lite: pure Python, no compiled ops (setup.py imports pkg_resources: setuptools<81 above)
MMCV_WITH_OPS=0 "${pip[@]}" --no-deps --no-build-isolation mmcv==1.7.2
# --no-deps: mmocr asks for opencv-python; torchvision for a matching CUDA torch.
# lanms-neo: MMOCR's locality-aware NMS (DRRG's targets and proposals), a C++ sdist (~10 s)
"${pip[@]}" --no-deps torchvision==0.28.0 mmdet==2.28.2 mmocr==0.6.3 imgaug==0.4.0 \
    lanms-neo==1.0.2
site=$("$dest/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
# PyPI's torchvision is a CUDA build whose _C.so does not load beside CPU torch; two fake-op
# registrations are not guarded by _has_ops() and fail at import: guard them
sed -i 's/^@torch.library.register_fake("torchvision::\(q\?nms\)")/@(torch.library.register_fake("torchvision::\1") if torchvision.extension._has_ops() else (lambda f: f))/' \
    "$site/torchvision/_meta_registrations.py"
# mmcv._ext as a module whose functions raise when called (see ref_stubs.py)
cp "$here/ref_stubs.py" "$site/ocr_ds_ref_stubs.py"
echo "import ocr_ds_ref_stubs; ocr_ds_ref_stubs.install()" > "$site/ocr_ds_ref_stubs.pth"
# the few mmcv CPU ops the reference needs, compiled from mmcv's own sources (~80 s)
"${pip[@]}" ninja==1.13.0
"$dest/bin/python" "$here/mmcv_ops/build_mmcv_ops.py" "$dest/mmcv_ops_build" > /dev/null
cp "$dest/mmcv_ops_build/ocr_ds_mmcv_ops.so" "$site/"
"$dest/bin/python" -c "import mmocr.models, mmocr.datasets, mmocr.core; print('mmocr', mmocr.__version__)"
touch "$dest/.complete"

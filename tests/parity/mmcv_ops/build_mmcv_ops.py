"""Compile mmcv 1.7.2's CPU sources of the ops in pybind.cpp into ``ocr_ds_mmcv_ops``.

Run with the reference venv's python; argument: the output directory. ``ref_stubs.py``'s
``mmcv._ext`` hands these names to the compiled module and keeps raising for all others.
"""
import os
import shutil
import sys

import mmcv
from torch.utils.cpp_extension import load

CSRC = os.path.join(os.path.dirname(mmcv.__file__), "ops", "csrc")
OPS = ["modulated_deform_conv", "nms", "pixel_group", "contour_expand"]
CPU = ["modulated_deform_conv", "nms", "pixel_group"]   # contour_expand is CPU code itself
OPS += ["roi_align"]   # Mask R-CNN's RoI extractors and mask targets
CPU += ["roi_align"]
OPS += ["roi_align_rotated"]   # DRRG's local-graph node features
CPU += ["roi_align_rotated"]

out = sys.argv[1]
src = os.path.join(out, "src")
os.makedirs(src, exist_ok=True)
# copies under distinct names: ninja names objects after the file, and pytorch/X.cpp and
# pytorch/cpu/X.cpp share basenames
sources = [shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pybind.cpp"),
                       src)]
sources += [shutil.copy(os.path.join(CSRC, "pytorch", f"{op}.cpp"), os.path.join(src, f"{op}.cpp"))
            for op in OPS]
sources += [shutil.copy(os.path.join(CSRC, "pytorch", "cpu", f"{op}.cpp"),
                        os.path.join(src, f"{op}_cpu.cpp")) for op in CPU]
# -DNDEBUG as mmcv's own setup.py build gets it (Python's CFLAGS): pixel_group_cpu.cpp asserts
# `height == mask.size(0) == embedding.size(1) == ...`, a chained comparison that is false for
# every real input and aborts the process when asserts are compiled in
load(name="ocr_ds_mmcv_ops", sources=sources,
     extra_include_paths=[os.path.join(CSRC, "common")],
     extra_cflags=["-O2", "-DNDEBUG", "-DMMCV_WITH_CPU"], build_directory=out, verbose=False)
print("built", out)

"""Ref side of test_ocr_tool.py: MMOCR 0.6.3's own ``mmocr.utils.ocr.MMOCR.readtext``."""
import glob
import json
import os
import warnings

import cv2
import numpy as np
import torch

# MMOCR 0.6.3's sort_vertex (KIE boxes) uses np.int, gone from the venv's numpy (as
# tests/models/sdmgr/mmocr_sdmgr.py)
np.int = int


def _files(folder, ext):
    """Every ``*.ext`` file of ``folder``: JSON parsed, pictures as tensors."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, f"*.{ext}"))):
        if ext == "json":
            with open(path) as f:
                out[os.path.basename(path)] = json.load(f)
        else:
            out[os.path.basename(path)] = torch.from_numpy(cv2.imread(path))
    return out


def readtext_runs(models, images, runs, out_dir):
    """For each run ``(model, kwargs)`` (``models[model]``: MMOCR's constructor arguments), the
    results ``readtext(images, **kwargs)`` returns, and what it wrote under ``export`` and
    ``output`` (kwargs name sub-folders of ``out_dir``)."""
    from mmocr.utils.ocr import MMOCR

    # MMOCR draws every KIE result (even without --output) with a TrueType font it downloads:
    # offline here, so its KIE picture is left out (results do not depend on it)
    MMOCR.visualize_kie_output = lambda *args, **kwargs: None
    warnings.simplefilter("ignore")
    built = {}
    out = []
    for name, kwargs in runs:
        if name not in built:
            built[name] = MMOCR(**models[name])
        kwargs = dict(kwargs)
        for key in ("export", "output"):
            if kwargs.get(key):
                kwargs[key] = os.path.join(out_dir, kwargs[key])
        result = built[name].readtext(list(images), **kwargs)
        out.append(dict(
            result=json.loads(json.dumps(result, default=lambda x: x.item())),
            export=_files(kwargs["export"], "json") if kwargs.get("export") else {},
            output=_files(kwargs["output"], "png") if kwargs.get("output") else {}))
    return out

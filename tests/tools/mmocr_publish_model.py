"""Ref side of test_publish_model.py: MMOCR 0.6.3's own tools/publish_model.py."""
import glob
import importlib.util
import os
import time

import mmocr
import torch

SCRIPT = os.path.join(os.path.dirname(mmocr.__file__), '.mim', 'tools', 'publish_model.py')


def run(in_file, out_file):
    """MMOCR's published file (its name and contents) for ``in_file``; the script renames it
    with a ``mv`` it does not wait for."""
    spec = importlib.util.spec_from_file_location('mmocr_publish_model', SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.process_checkpoint(in_file, out_file)
    pattern = out_file.rstrip('.pth') + '-*.pth'
    deadline = time.monotonic() + 30
    while not glob.glob(pattern) and time.monotonic() < deadline:
        time.sleep(0.05)
    (path,) = glob.glob(pattern)
    saved = torch.load(path, map_location='cpu')
    return dict(name=os.path.basename(path), state_dict=saved['state_dict'],
                meta=saved['meta'], keys=sorted(saved))

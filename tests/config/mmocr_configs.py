"""Ref side (MMOCR 0.6.3 venv): MMOCR's own config files, loaded by mmcv's ``Config``."""
import os

from mmocr_common import CONFIGS, load_config


def list_configs():
    """Every ``.py`` config MMOCR 0.6.3 ships, relative to its configs/ directory."""
    out = []
    for root, _, files in os.walk(CONFIGS):
        out += [os.path.relpath(os.path.join(root, f), CONFIGS) for f in files if f.endswith(".py")]
    return sorted(out)


def load_configs(paths):
    """``{path: config as plain dicts}`` for each relative path."""
    return {p: load_config(p) for p in paths}

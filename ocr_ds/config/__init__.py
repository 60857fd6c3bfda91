"""Config files (mmcv 1.x ``Config`` compatible) and the ``--cfg-options`` grammar.

``Config.fromfile(path, cfg_options=tokens)`` is the usual entry point; see
:mod:`ocr_ds.config.config` for loading, :mod:`ocr_ds.config.merge` for merging,
:mod:`ocr_ds.config.dump` for writing and :mod:`ocr_ds.config.options` for the ``key=value``
grammar.
"""
from ocr_ds.config.config import BASE_KEY, DELETE_KEY, Config, ConfigDict
from ocr_ds.config.options import parse_cfg_options, parse_value

__all__ = ["BASE_KEY", "DELETE_KEY", "Config", "ConfigDict", "parse_cfg_options", "parse_value"]

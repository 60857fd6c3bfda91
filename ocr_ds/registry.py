"""The name tables: ``type='CRNNNet'`` in a config -> the class that builds it.

One explicit table per kind, all in this file, instead of import-time registration: what a
config can name is exactly what is listed here. Entries are ``"module:attribute"`` strings,
imported only when a config names them, so asking for a recogniser never imports the
detection code (or its optional libraries).

An unknown name is a :class:`~ocr_ds.errors.UserError` that lists the known ones.
"""
from __future__ import annotations

import copy
import importlib
from typing import Any, Mapping

from ocr_ds.errors import UserError, unknown_name

MODELS: dict[str, str] = {
    # text recognition
    "CRNNNet": "ocr_ds.models.textrecog.crnn:CRNNNet",
    # text detection
    "DBNet": "ocr_ds.models.textdet.dbnet:DBNet",
    "PSENet": "ocr_ds.models.textdet.psenet:PSENet",
    # tiny model for engine tests and benchmarks
    "ToyRegressor": "ocr_ds.models.toy:ToyRegressor",
}

DATASETS: dict[str, str] = {
    "OCRDataset": "ocr_ds.datasets.textrecog.ocr_dataset:OCRDataset",
    "IcdarDataset": "ocr_ds.datasets.textdet.icdar_dataset:IcdarDataset",
    "ConcatDataset": "ocr_ds.datasets.concat:ConcatDataset",
    "ToyDataset": "ocr_ds.datasets.toy:ToyDataset",
}

# Pipeline steps (``data.*.pipeline`` entries). Shared steps first, then per task.
PIPELINES: dict[str, str] = {
    # shared: loading, normalising, formatting
    # text recognition
    # text detection
}

HOOKS: dict[str, str] = {
    "TextLoggerHook": "ocr_ds.engine.hooks.logger:TextLoggerHook",
    "TensorboardLoggerHook": "ocr_ds.engine.hooks.tensorboard:TensorboardLoggerHook",
    "EmptyCacheHook": "ocr_ds.engine.hooks.misc:EmptyCacheHook",
}

TABLES: dict[str, dict[str, str]] = {
    "model": MODELS,
    "dataset": DATASETS,
    "pipeline": PIPELINES,
    "hook": HOOKS,
}


def resolve(table: Mapping[str, str], name: Any, key: str) -> Any:
    """Return the class named ``name`` in ``table``; ``key`` is the config path for errors."""
    if not isinstance(name, str) or name not in table:
        raise unknown_name(key, name, table)
    module, _, attr = table[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def build(table: Mapping[str, str], cfg: Mapping[str, Any], key: str, **extra: Any) -> Any:
    """Build ``cfg['type'](**rest, **extra)``; errors name ``key`` (e.g. ``model.backbone``)."""
    if not isinstance(cfg, Mapping) or "type" not in cfg:
        raise UserError(f"{key}: expected a dict with a 'type' key (got {cfg!r})")
    args = copy.deepcopy(dict(cfg))
    cls = resolve(table, args.pop("type"), f"{key}.type")
    args.update(extra)
    try:
        return cls(**args)
    except TypeError as exc:
        # a wrong keyword in the config is the user's, not a bug of ours
        if "unexpected keyword argument" in str(exc) or "missing" in str(exc):
            raise UserError(f"{key}: {cfg['type']}: {exc}") from None
        raise

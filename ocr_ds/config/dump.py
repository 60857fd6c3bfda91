"""Writing a loaded config back out as ``.py``, JSON or YAML text (:meth:`Config.dump`).

The ``.py`` writer produces mmcv-style source (``dict(a=1)``, one item per line when a value
does not fit the line width) that loads back to an equal dict. Also holds the YAML
loader/dumper pair that keeps tuples as ``!!python/tuple``, which the loader uses too.
"""
from __future__ import annotations

import json
import keyword
import math
from typing import TYPE_CHECKING, Any, Mapping

import yaml

from ocr_ds.errors import UserError

if TYPE_CHECKING:
    from ocr_ds.config.config import Config

_LINE_WIDTH = 100


def _dump_text(cfg: Config, ext: str, target: str) -> str:
    if ext == ".py":
        return _py_text(cfg)
    data = cfg.to_dict()
    try:
        if ext == ".json":
            return json.dumps(data, indent=4, ensure_ascii=False) + "\n"
        return yaml.dump(data, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False)
    except (TypeError, ValueError, yaml.YAMLError) as exc:
        raise UserError(f"{target}: cannot write this config as {ext[1:]}: {exc}") from None


def _py_text(cfg: Mapping) -> str:
    lines = []
    for key, value in cfg.items():
        if not _is_name(key) or key.startswith("__"):
            raise UserError(f"{key!r}: cannot be a top-level name in a .py config; expected a "
                            f"Python identifier not starting with '__'")
        lines.append(f"{key} = {_py_value(value, str(key), len(key) + 3)}")
    return "\n".join(lines) + "\n"


def _is_name(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)


def _py_value(value: Any, path: str, used: int, indent: int = 0) -> str:
    """Python source for ``value``: on one line if it fits in the width, else one item per
    line. Dicts with identifier keys are written ``dict(a=1)`` as in mmcv configs."""
    inline = _py_inline(value, path)
    items = _py_items(value, path)
    if items is None or not items[2] or used + len(inline) <= _LINE_WIDTH:
        return inline
    opener, closer, parts = items
    pad = " " * (indent + 4)
    body = [f"{pad}{p}{_py_value(v, s, len(pad) + len(p) + 1, indent + 4)},"
            for p, v, s in parts]
    return "\n".join([opener, *body, " " * indent + closer])


def _py_inline(value: Any, path: str) -> str:
    items = _py_items(value, path)
    if items is None:
        return _py_scalar(value, path)
    opener, closer, parts = items
    tail = "," if type(value) is tuple and len(value) == 1 else ""  # (x,) stays a tuple
    return opener + ", ".join(p + _py_inline(v, s) for p, v, s in parts) + tail + closer


def _py_items(value: Any, path: str) -> tuple[str, str, list[tuple[str, Any, str]]] | None:
    """Opening, closing and ``(prefix, value, key path)`` per item of a container, else None."""
    if isinstance(value, dict):
        named = all(_is_name(k) for k in value)
        prefix = (lambda k: f"{k}=") if named else (lambda k: f"{_py_scalar(k, path)}: ")
        parts = [(prefix(k), v, f"{path}.{k}") for k, v in value.items()]
        return ("dict(", ")", parts) if named else ("{", "}", parts)
    if type(value) in (list, tuple):
        parts = [("", v, f"{path}.{i}") for i, v in enumerate(value)]
        return ("[", "]", parts) if type(value) is list else ("(", ")", parts)
    return None


def _py_scalar(value: Any, path: str) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    # subclasses (numpy's float64, IntEnum, ...) are written as the plain value: their own
    # repr is not always valid Python
    for kind in (int, str, bytes):
        if isinstance(value, kind):
            return repr(kind(value))
    if isinstance(value, float):
        return repr(float(value)) if math.isfinite(value) else f"float('{value}')"
    raise UserError(f"{path}: cannot write a {type(value).__name__} value to a .py config; "
                    f"expected dict, list, tuple, str, int, float, bool or None")


class _YamlLoader(yaml.SafeLoader):
    """Safe loading plus ``!!python/tuple``, so tuples survive a YAML dump and reload."""


class _YamlDumper(yaml.SafeDumper):
    """Safe dumping plus tuples as ``!!python/tuple`` (mmcv's YAML files keep them too)."""


_TUPLE_TAG = "tag:yaml.org,2002:python/tuple"
_YamlLoader.add_constructor(
    _TUPLE_TAG, lambda loader, node: tuple(loader.construct_sequence(node, deep=True)))
_YamlDumper.add_representer(
    tuple, lambda dumper, data: dumper.represent_sequence(_TUPLE_TAG, data))

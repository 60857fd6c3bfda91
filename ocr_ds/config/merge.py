"""Merging one config tree into another, as mmcv's ``Config._merge_a_into_b`` does.

Used for ``_base_`` inheritance (a child file into its bases) and for ``--cfg-options``
(:meth:`ocr_ds.config.Config.merge_from_dict`): dicts merge key by key, everything else
replaces, ``_delete_=True`` replaces a whole dict, and with list keys allowed a numeric key
indexes into a list. Works on plain dicts/lists/tuples and knows nothing of ``ConfigDict``.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from ocr_ds.errors import UserError

DELETE_KEY = "_delete_"
_OPTIONS = "cfg-options"  # the merge source named in errors about --cfg-options


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value) if type(value) in (list, tuple) else value
    return value


class _Ctx(NamedTuple):
    """Where a merge comes from (a file, or ``cfg-options``) and if list indices are allowed."""

    source: str
    allow_list_keys: bool


def _strip_delete(value: Any) -> Any:
    """A plain copy without ``_delete_`` flags; they only mean something while merging."""
    if isinstance(value, dict):
        return {k: _strip_delete(v) for k, v in value.items() if k != DELETE_KEY}
    if type(value) in (list, tuple):
        return type(value)(_strip_delete(v) for v in value)
    return value


def _merge(child: Mapping, base: Any, path: str, ctx: _Ctx) -> Any:
    """Merge ``child`` into ``base`` (mmcv's ``_merge_a_into_b``) and return a new object;
    neither input is changed. Dicts merge recursively, everything else replaces."""
    if isinstance(base, (list, tuple)):
        return _merge_into_sequence(child, base, path, ctx)
    result = dict(base)
    for key, value in child.items():
        if key == DELETE_KEY:
            continue
        sub = f"{path}.{key}" if path else str(key)
        result[key] = _merge_value(value, result, key, sub, ctx)
    return result


def _merge_value(value: Any, container: Any, key: Any, sub: str, ctx: _Ctx) -> Any:
    has_old = key in container if isinstance(container, dict) else True
    if not isinstance(value, dict) or not has_old or value.get(DELETE_KEY, False):
        return _strip_delete(value)
    old = container[key]
    if isinstance(old, dict) or (ctx.allow_list_keys and type(old) in (list, tuple)):
        return _merge(value, old, sub, ctx)
    shown = _short(old)
    if ctx.source == _OPTIONS:
        first = next(iter(value), "")
        wanted = "a dict or list" if ctx.allow_list_keys else "a dict"
        raise UserError(f"{_OPTIONS} {sub}.{first}: cannot index into {sub}: expected {wanted} "
                        f"there (got {type(old).__name__} {shown})")
    raise UserError(f"{sub}: cannot merge a dict from {ctx.source} into the "
                    f"{type(old).__name__} {shown} of its _base_; set _delete_=True in that "
                    f"dict to replace the base value")


def _merge_into_sequence(child: Mapping, base: list | tuple, path: str, ctx: _Ctx) -> Any:
    items = list(base)
    for key, value in child.items():
        if key == DELETE_KEY:
            continue
        sub = f"{path}.{key}"
        if not str(key).isdigit():
            raise UserError(f"{ctx.source} {sub}: {path} is a list, so expected an index "
                            f"0..{len(items) - 1} (got {key!r})")
        index = int(key)
        if index >= len(items):
            raise UserError(f"{ctx.source} {sub}: index {index} is out of range; {path} is a "
                            f"list of length {len(items)}")
        items[index] = _merge_value(value, items, index, sub, ctx)
    return type(base)(items)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(_plain(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."

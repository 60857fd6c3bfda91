"""Small value checks shared by the translator modules.

Each helper takes the config key path it is checking, so the error it raises names the key the
user has to fix (house style: ``key.path: what was found, what was expected``).
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from ocr_ds.errors import UserError, bad_value


def is_number(value: Any) -> bool:
    """A real int/float, not a bool (``True`` is an int to Python, never a number to a user)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(value: Any, key: str) -> int:
    """``value`` as an int >= 1, else a UserError naming ``key``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_value(key, value, "a positive integer")
    return value


def positive_number(value: Any, key: str) -> float:
    """``value`` as a finite float > 0, else a UserError naming ``key``."""
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise bad_value(key, value, "a positive number")
    return float(value)


def mapping(value: Any, key: str, expected: str = "a dict") -> Mapping:
    """``value`` if it is a Mapping, else a UserError naming ``key``."""
    if not isinstance(value, Mapping):
        raise bad_value(key, value, expected)
    return value


def reject_unknown_keys(section: Mapping, allowed: set[str] | frozenset[str], key: str,
                        what: str) -> None:
    """UserError for the first key of ``section`` not in ``allowed`` (sorted, so it is stable)."""
    for name in sorted(set(section) - set(allowed), key=str):
        raise UserError(f"{key}.{name}: not an option of {what}; expected one of: "
                        f"{', '.join(sorted(allowed))}")


def to_json(value: Any, key: str) -> Any:
    """A JSON-ready copy of ``value``: tuples become lists; anything JSON cannot hold is an error.

    DeepSpeed receives the dict as-is, and ``--dry-run`` prints it as JSON, so both must agree.
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise bad_value(key, value, "a finite number")
        return value
    if isinstance(value, Mapping):
        out = {}
        for name, item in value.items():
            if not isinstance(name, str):
                raise bad_value(f"{key}.{name}", name, "a string key")
            out[name] = to_json(item, f"{key}.{name}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item, f"{key}.{i}") for i, item in enumerate(value)]
    raise bad_value(key, value, "a JSON value (number, string, bool, None, list or dict)")

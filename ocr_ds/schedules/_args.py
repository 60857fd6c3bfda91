"""Reading one ``lr_config`` (or ``momentum_config``) dict: typed look-ups that name the key
path, and leftovers as errors.

mmcv passes ``lr_config`` as keyword arguments to a hook class, so a misspelt key is a
``TypeError`` deep in a traceback and a wrong type fails mid-run. Here every key is read through
:class:`ArgReader`, which raises a one-line :class:`~ocr_ds.errors.UserError` naming
``lr_config.<key>`` and, at :meth:`ArgReader.finish`, rejects keys nobody read.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable, Mapping

from ocr_ds.errors import UserError, bad_value

_REQUIRED = object()


def is_number(value: Any) -> bool:
    """A real number that is not a bool (``True`` is an int in Python, never a learning rate)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_int(value: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


class ArgReader:
    """Typed, key-path-naming access to the keys of one config dict.

    ``key`` is the path of the dict itself (``lr_config``); ``owner`` says who needs the keys,
    for messages (``policy 'step'``). A key given as ``None`` counts as absent, as it does for
    mmcv's keyword defaults.
    """

    def __init__(self, cfg: Mapping[str, Any], key: str, owner: str):
        self._cfg = dict(cfg)
        self._key = key
        self._owner = owner
        self._read: set[str] = set()

    def path(self, name: str) -> str:
        """The full key path of ``name``, e.g. ``lr_config.warmup``."""
        return f"{self._key}.{name}"

    def given(self, name: str) -> bool:
        """Whether ``name`` is present with a value other than None (does not mark it read)."""
        return self._cfg.get(name) is not None

    def raw(self, name: str, default: Any = _REQUIRED) -> Any:
        """The value as given, ``default`` when absent; absent with no default is an error."""
        self._read.add(name)
        value = self._cfg.get(name)
        if value is None:
            if default is _REQUIRED:
                raise UserError(f"{self.path(name)}: required by {self._owner}")
            return default
        return value

    def number(self, name: str, default: Any = _REQUIRED) -> Any:
        """A real number (int or float, not bool), or ``default`` (which may be None)."""
        value = self.raw(name, default)
        if value is not default and not is_number(value):
            raise bad_value(self.path(name), value, "a number")
        return value

    def integer(self, name: str, default: Any = _REQUIRED, *, minimum: int | None = None) -> Any:
        """An integer (not bool), at least ``minimum`` when given, or ``default``."""
        value = self.raw(name, default)
        if value is default:
            return value
        if not is_int(value):
            raise bad_value(self.path(name), value, "an integer")
        if minimum is not None and value < minimum:
            raise bad_value(self.path(name), value, f"an integer >= {minimum}")
        return int(value)

    def boolean(self, name: str, default: Any = _REQUIRED) -> Any:
        """``True`` or ``False``, or ``default``."""
        value = self.raw(name, default)
        if value is not default and not isinstance(value, bool):
            raise bad_value(self.path(name), value, "True or False")
        return value

    def choice(self, name: str, default: Any, choices: Iterable[str]) -> Any:
        """One of ``choices`` (strings), or ``default``."""
        choices = list(choices)
        value = self.raw(name, default)
        if value not in choices:
            raise bad_value(self.path(name), value, "one of " + ", ".join(map(repr, choices)))
        return value

    def finish(self) -> None:
        """Reject keys that were given but never read: a typo, or an argument of another policy."""
        unknown = sorted(set(self._cfg) - self._read)
        if unknown:
            names = ", ".join(map(repr, unknown))
            known = ", ".join(sorted(self._read))
            raise UserError(f"{self._key}: unknown key(s) {names} for {self._owner}; "
                            f"expected keys: {known}")


def min_target(args: ArgReader, owner: str, name: str = "lr") -> tuple[float | None, float | None]:
    """Read mmcv's exclusive pair ``min_<name>`` / ``min_<name>_ratio`` (``name``: ``lr`` for
    ``lr_config``, ``momentum`` for ``momentum_config``): exactly one must be given."""
    floor = args.number(f"min_{name}", None)
    ratio = args.number(f"min_{name}_ratio", None)
    if (floor is None) == (ratio is None):
        got = "both" if floor is not None else "neither"
        raise UserError(f"{args.path(f'min_{name}')}: {owner} needs exactly one of min_{name} "
                        f"and min_{name}_ratio (got {got})")
    return floor, ratio

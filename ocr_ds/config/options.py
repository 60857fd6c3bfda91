"""The ``--cfg-options key=value ...`` grammar of mmcv 1.x's ``DictAction``, without ``eval``.

:func:`parse_cfg_options` turns command-line tokens into ``{dotted_key: value}``;
:func:`options_to_tree` turns those dotted keys into the nested dict that
:meth:`ocr_ds.config.Config.merge_from_dict` merges into a config.

Value grammar (mmcv's, with holes closed: brackets must really nest, ``(1),(2)`` does not
recurse forever, and every kind of whitespace is removed, not only spaces):

* all whitespace is removed, and surrounding quotes are stripped (at every nesting level);
* ``[...]`` is a list, ``(...)`` a tuple; they nest, and only top-level commas split items;
* ``a,b`` without brackets is a list;
* a scalar is tried as int, then float, then ``true``/``false`` (any case) -> bool,
  ``None`` -> None, and is otherwise kept as a string.

A value is never evaluated as Python: ``k=__import__('os').system('x')`` stays a string.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from ocr_ds.errors import UserError

_OPEN_TO_CLOSE = {"[": "]", "(": ")"}
_CLOSERS = set(_OPEN_TO_CLOSE.values())


def parse_cfg_options(tokens: Iterable[str]) -> dict[str, Any]:
    """Parse ``--cfg-options`` tokens (``key=value``) into ``{dotted_key: parsed_value}``.

    A later token for the same key wins, as with mmcv. Raises :class:`UserError` for a token
    without ``=``, an empty or malformed key, or unbalanced brackets in the value.
    """
    options: dict[str, Any] = {}
    for token in tokens:
        if "=" not in token:
            raise UserError(f"--cfg-options: expected key=value (got {token!r})")
        key, value = token.split("=", 1)
        key = key.strip()
        check_key(key, token)
        options[key] = parse_value(value, key)
    return options


def check_key(key: str, token: str | None = None) -> None:
    """Reject empty keys and empty dotted parts (``a..b``, ``.a``), which mmcv turns into odd
    nested keys such as ``''`` instead of reporting them."""
    shown = token if token is not None else key
    if not key:
        raise UserError(f"--cfg-options: expected a non-empty key before '=' (got {shown!r})")
    if any(part == "" for part in key.split(".")):
        raise UserError(
            f"--cfg-options: expected a dotted key like 'model.backbone.depth' (got {shown!r})")
    if any(ch.isspace() for ch in key):
        raise UserError(f"--cfg-options: expected a key without whitespace (got {shown!r})")


def parse_value(text: str, key: str = "value") -> Any:
    """Parse one ``--cfg-options`` value (the part after the first ``=``)."""
    # remove every whitespace character; quotes (the shell may have kept them) go in _parse
    text = "".join(text.split())
    _check_brackets(text, key)
    return _parse(text, key)


def _check_brackets(text: str, key: str) -> None:
    stack: list[str] = []
    for ch in text:
        if ch in _OPEN_TO_CLOSE:
            stack.append(_OPEN_TO_CLOSE[ch])
        elif ch in _CLOSERS:
            if not stack or stack.pop() != ch:
                raise UserError(f"--cfg-options {key}: expected balanced brackets (got {text!r})")
    if stack:
        raise UserError(f"--cfg-options {key}: expected balanced brackets (got {text!r})")


def _parse(text: str, key: str) -> Any:
    # mmcv strips quotes at every level, so `['a','b']` is ['a', 'b'] and not ["'a'", "'b'"]
    text = text.strip("'\"")
    is_tuple, enclosed = False, True
    if text.startswith("(") and text.endswith(")") and _encloses(text):
        is_tuple, text = True, text[1:-1]
    elif text.startswith("[") and text.endswith("]") and _encloses(text):
        text = text[1:-1]
    elif "," not in text:
        return _scalar(text)
    else:
        enclosed = False
    parts = _split_top_level(text)
    if not enclosed and parts == [text]:
        # a comma only inside brackets, not around them (``dict(a=1,b=2)``): mmcv recurses
        # forever on it; neither a value nor a list of values
        raise UserError(f"--cfg-options {key}: expected a value or a list/tuple of values "
                        f"(got {text!r}); set a dict's keys one by one, e.g. {key}.type=...")
    items = [_parse(part, key) for part in parts]
    return tuple(items) if is_tuple else items


def _encloses(text: str) -> bool:
    """True when the first bracket closes at the very end: ``(1,2)`` yes, ``(1),(2)`` no.

    mmcv only looks at the first and last character, strips them from ``(1),(2)`` and then
    recurses forever on ``1),(2``; here it is the list ``[(1,), (2,)]``.
    """
    depth = 0
    for i, ch in enumerate(text):
        if ch in _OPEN_TO_CLOSE:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
    return False


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets. Like mmcv, a trailing comma adds no empty item
    (``1,`` -> ``[1]``) and an empty text gives no items (``[]`` -> ``[]``)."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch in _OPEN_TO_CLOSE:
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if start < len(text):
        parts.append(text[start:])
    return parts


def _scalar(text: str) -> Any:
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text == "None":
        return None
    return text


def options_to_tree(options: Mapping[str, Any]) -> dict[str, Any]:
    """Turn ``{'a.b.c': v}`` into ``{'a': {'b': {'c': v}}}``, one tree for all options.

    Two options where one is a prefix of the other (``a=1`` and ``a.b=2``) contradict each
    other; mmcv crashes or silently drops one, here it is a :class:`UserError`.
    """
    tree: dict[str, Any] = {}
    owner: dict[int, str] = {}  # id of a subtree -> the option key that created it, for errors
    for full_key, value in options.items():
        if not isinstance(full_key, str):
            raise UserError(f"cfg-options: expected string keys (got {full_key!r})")
        check_key(full_key)
        parts = full_key.split(".")
        node = tree
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None or (isinstance(child, dict) and id(child) not in owner):
                # a dict given as a value (``{'model': {...}, 'model.x': 1}``) is copied, so
                # the caller's dict is never modified
                child = node[part] = dict(child or {})
                owner[id(child)] = full_key
            elif not isinstance(child, dict):
                prefix = ".".join(parts[: depth + 1])
                raise UserError(
                    f"cfg-options {full_key}: conflicts with option {prefix!r} set to {child!r}")
            node = child
        last = parts[-1]
        if last in node and isinstance(node[last], dict) and id(node[last]) in owner:
            raise UserError(
                f"cfg-options {full_key}: conflicts with option {owner[id(node[last])]!r}")
        node[last] = value
    return tree

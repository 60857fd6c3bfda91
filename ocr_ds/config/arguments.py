"""Check a config dict against the constructor it will be passed to, before anything is built.

``registry.build`` and the config check (``--dry-run``) bind ``dict(type=X, **args)`` to the
signature of the class ``X`` names, so every model, component, dataset, pipeline step and hook
is covered by what its own ``__init__`` declares, with no per-class code:

- a key the constructor does not take (unless it takes ``**kwargs``), a required one missing;
- a value whose kind contradicts the parameter's annotation: a string where ``int`` is
  annotated, a float for an ``int``, a list for a ``bool``, ... Only plain annotations are
  judged (``int``, ``float``, ``bool``, ``str``, ``None``, unions, ``Sequence[...]``,
  ``tuple[...]``, ``Mapping``, ``Literal``); anything else (``Any``, classes, callables, an
  annotation that cannot be resolved) passes, so an imprecise annotation never blocks a config.

Problems come back as house-style lines naming the full key path (``model.backbone.depth:
expected an integer (got '18')``).

Also here: :func:`rewrite_key`, which turns the relative key a component names in its own
errors (``backbone.depth``, ``datasets.0``, ``MultiScaleFlipAug.flip``) into the full
``--cfg-options`` path of the dict it was built from.
"""
from __future__ import annotations

import collections.abc as abc
import functools
import inspect
import numbers
import re
import sys
import types
import typing
from typing import Any, Callable, Mapping

_EMPTY = inspect.Parameter.empty


@functools.lru_cache(maxsize=None)
def _signature(cls: Any) -> tuple[dict[str, inspect.Parameter], bool, dict[str, Any]] | None:
    """(parameters by name, takes **kwargs, resolved annotations) of ``cls``'s constructor."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    params: dict[str, inspect.Parameter] = {}
    var_kw = False
    for name, p in sig.parameters.items():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            params[name] = p
    return params, var_kw, _hints(cls, params)


def _hints(cls: Any, params: Mapping[str, inspect.Parameter]) -> dict[str, Any]:
    init = getattr(cls, "__init__", None) if isinstance(cls, type) else cls
    try:
        return typing.get_type_hints(init)
    except Exception:  # noqa: BLE001 - an annotation that does not resolve: judge the others
        pass
    module = vars(sys.modules.get(getattr(cls, "__module__", ""), types.ModuleType("_")))
    hints = {}
    for name, p in params.items():
        ann = p.annotation
        if isinstance(ann, str):
            try:
                ann = eval(ann, dict(module), {})  # noqa: S307 - our own source's annotations
            except Exception:  # noqa: BLE001
                continue
        if ann is not _EMPTY:
            hints[name] = ann
    return hints


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_SEQUENCES = (list, tuple, abc.Sequence, abc.MutableSequence, abc.Iterable, abc.Collection,
              typing.Sequence, typing.Iterable, typing.List, typing.Tuple)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping, typing.Mapping, typing.Dict)
_SCALARS: dict[Any, tuple[Callable[[Any], bool], str]] = {
    bool: (lambda v: isinstance(v, bool), "True or False"),
    int: (_is_int, "an integer"),
    float: (_is_number, "a number"),
    str: (lambda v: isinstance(v, str), "a string"),
    type(None): (lambda v: v is None, "None"),
}


def expected(hint: Any, value: Any) -> str | None:
    """What ``hint`` asks for when ``value`` does not fit it, else None (also when the hint is
    not one this checker judges)."""
    if hint in _SCALARS:
        ok, what = _SCALARS[hint]
        return None if ok(value) else what
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        wants = [expected(a, value) for a in args]
        if any(w is None for w in wants):
            return None
        return " or ".join(dict.fromkeys(w for w in wants if w))
    if origin is typing.Literal:
        return None if value in args else "one of " + ", ".join(map(repr, args))
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return None if isinstance(value, abc.Mapping) else "a dict"
    if hint in _SEQUENCES or origin in _SEQUENCES:
        if not isinstance(value, (list, tuple)):
            return "a list" if origin is not tuple else "a tuple or list"
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                return f"a list of {len(args)} values"
            items = list(zip(args, value))
        else:
            items = [(args[0], v) for v in value] if args else []
        for arg, item in items:
            want = expected(arg, item)
            if want is not None:
                return f"a list of {want.removeprefix('an ').removeprefix('a ')}s" \
                    if want in ("an integer", "a number", "a string") else f"a list of: {want}"
        return None
    if isinstance(hint, type) and hint.__module__.split(".")[0] == "torch":
        # a config value is never a tensor (or dtype, device...); a parent may pass one
        return None if isinstance(value, hint) else f"a {hint.__name__}"
    return None  # Any, other classes, callables, type variables: not judged


def check_arguments(cls: Any, args: Mapping[str, Any], key: str) -> list[str]:
    """The problems of passing ``args`` (a config dict without ``type``) to ``cls`` (a class, or
    any function or bound method), one line each, naming ``key.<argument>``."""
    if inspect.ismethod(cls):  # a bound method: its function, without ``self``
        args = {"self": None, **args}
        cls = cls.__func__
    found = _signature(cls)
    if found is None:
        return []
    params, var_kw, hints = found
    name = getattr(cls, "__name__", str(cls))
    problems = []
    if not var_kw:
        unknown = [k for k in args if k not in params]
        for k in unknown:
            problems.append(f"{key}.{k}: not an argument of {name}; expected some of: "
                            f"{', '.join(params)}")
    for pname, p in params.items():
        if pname not in args:
            if p.default is _EMPTY:
                problems.append(f"{key}.{pname}: required by {name} (got nothing)")
            continue
        value = args[pname]
        if value is None and p.default is None:
            continue
        hint = hints.get(pname)
        if hint is None:
            continue
        want = expected(hint, value)
        if want is not None:
            problems.append(f"{key}.{pname}: expected {want} (got {value!r})")
    return problems


_LEADING_PATH = re.compile(r"^([A-Za-z_]\w*)((?:\.[\w\-]+)*)(?=:(?:\s|$))")


def rewrite_key(message: str, key: str, cfg: Mapping[str, Any], cls: Any = None) -> str:
    """``message`` with a leading relative key path made absolute under ``key``.

    A component names its own arguments relative to itself: ``backbone.depth: ...`` (its own
    name as its parent calls it), ``datasets.0.type: ...`` (one of its arguments) or
    ``MultiScaleFlipAug.flip: ...`` (its class name). Built from ``cfg`` at ``key``
    (``model.backbone``, ``data.train``, ``data.test.pipeline.1``), those become
    ``model.backbone.depth``, ``data.train.datasets.0.type`` and ``data.test.pipeline.1.flip``
    (``cls``: the class built, whose name counts like the ``type`` naming it, for aliases).
    Other messages (file names, full paths already) are returned unchanged.
    """
    match = _LEADING_PATH.match(message)
    if not match:
        return message
    head, rest = match.group(1), match.group(2)
    last = key.rsplit(".", 1)[-1]
    if head in (last, cfg.get("type"), getattr(cls, "__name__", None)):
        return key + rest + message[match.end():]
    if head in cfg and head != "type":
        return f"{key}.{head}{rest}" + message[match.end():]
    return message

"""Users' own classes in configs: ``register_module`` on the name tables, and ``custom_imports``.

MMOCR users add a model part, a pipeline step or a dataset with mmcv's registry decorator and
name the module that holds it in the config::

    # my_ocr/necks.py
    from ocr_ds.registry import NECKS            # MMOCR: from mmocr.models.builder import NECKS

    @NECKS.register_module()
    class MyFPN(torch.nn.Module): ...

    # the config
    custom_imports = dict(imports=['my_ocr.necks'], allow_failed_imports=False)
    model = dict(..., neck=dict(type='MyFPN', ...))

The name tables of :mod:`ocr_ds.registry` are :class:`NameTable` s: plain ``name ->
"module:attribute"`` dicts with mmcv's ``register_module(name=None, force=False, module=None)``.
:func:`import_custom_modules` is mmcv's ``import_modules_from_strings`` as ``Config.fromfile``
runs it, with one-line errors naming the key; every command that loads a config runs it, in
every rank and before anything is built.
"""
from __future__ import annotations

import importlib
import inspect
import os
import sys
import traceback
import warnings
from typing import Any, Callable, Iterable, Mapping

from ocr_ds.errors import UserError, bad_value


class NameTable(dict):
    """A name table (``name -> "module:attribute"``) users can add their own classes to.

    ``peers``: tables that share registrations (MMOCR keeps models and their parts in one
    registry, so a class registered through either can be named as both).
    """

    def __init__(self, kind: str, entries: Mapping[str, str]):
        super().__init__(entries)
        self.kind = kind
        self.peers: tuple[NameTable, ...] = (self,)

    def register_module(self, name: str | Iterable[str] | None = None, force: bool = False,
                        module: Any = None) -> Any:
        """mmcv's ``Registry.register_module``: as a decorator (``@T.register_module()``,
        ``@T.register_module(name='Alias')``) or called with ``module=cls``. A name already in
        the table is a ``KeyError`` unless ``force=True`` (or it names this very class)."""
        if not isinstance(force, bool):
            raise TypeError(f"force must be a boolean, but got {type(force)}")
        if not (name is None or isinstance(name, str)
                or (isinstance(name, (list, tuple)) and all(isinstance(n, str) for n in name))):
            raise TypeError(f"name must be None, a str or a sequence of str, but got {type(name)}")
        if module is not None:
            self._register(module, name, force)
            return module

        def decorate(obj: Any) -> Any:
            self._register(obj, name, force)
            return obj
        return decorate

    def _register(self, obj: Any, name: Any, force: bool) -> None:
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            raise TypeError(f"module must be a class or a function, but got {type(obj)}")
        names = [obj.__name__] if name is None else [name] if isinstance(name, str) else name
        # a string where it can be imported again (spawned workers, the dumped config's readers);
        # a class defined inside a function is kept as the object itself
        entry = obj if "<locals>" in obj.__qualname__ else f"{obj.__module__}:{obj.__qualname__}"
        for table in self.peers:
            for n in names:
                if not force and n in table and not _same(table[n], obj):
                    raise KeyError(f"{n} is already registered in the {table.kind} table "
                                   f"(as {table[n]}); pass force=True to replace it")
        for table in self.peers:
            for n in names:
                table[n] = entry


def share(*tables: NameTable) -> None:
    """Make ``tables`` take each other's registrations."""
    for table in tables:
        table.peers = tables


def load_entry(entry: Any) -> Any:
    """The class a table entry names (``"module:attribute.path"``, or the class itself)."""
    if not isinstance(entry, str):
        return entry
    module, _, attr = entry.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _same(entry: Any, obj: Any) -> bool:
    if entry is obj:
        return True
    # the same class imported again (a module run both as a file and by name): same names
    return isinstance(entry, str) and entry == f"{obj.__module__}:{obj.__qualname__}"


KEY = "custom_imports"


def import_custom_modules(cfg: Mapping[str, Any],
                          warn: Callable[[str], None] | None = None) -> list[Any]:
    """Import ``cfg['custom_imports']`` (mmcv: ``dict(imports=[...], allow_failed_imports=
    False)``), so the classes they register can be named. Modules are looked up on
    ``sys.path`` and then in the current directory. Returns the modules (None for one that
    failed with ``allow_failed_imports=True``; each such failure is warned about).

    Raises:
        UserError: a malformed ``custom_imports``, a module that cannot be found, or one whose
            code raised while importing (one line: the exception and where it was raised).
    """
    spec = cfg.get(KEY)
    if not spec:
        return []
    if not isinstance(spec, Mapping):
        raise bad_value(KEY, spec, "dict(imports=['module', ...], allow_failed_imports=False)")
    unknown = sorted(set(spec) - {"imports", "allow_failed_imports"})
    if unknown:
        raise UserError(f"{KEY}.{unknown[0]}: unknown key; expected imports, "
                        f"allow_failed_imports")
    imports = spec.get("imports")
    allow_failed = spec.get("allow_failed_imports", False)
    if not isinstance(allow_failed, bool):
        raise bad_value(f"{KEY}.allow_failed_imports", allow_failed, "True or False")
    if not imports:
        return []
    names = [imports] if isinstance(imports, str) else imports
    if not isinstance(names, (list, tuple)):
        raise bad_value(f"{KEY}.imports", imports, "a module name or a list of module names")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.append(os.getcwd())  # as `python -m` finds modules of the current directory
    modules = []
    for i, name in enumerate(names):
        key = f"{KEY}.imports.{i}" if not isinstance(imports, str) else f"{KEY}.imports"
        if not isinstance(name, str) or not name:
            raise bad_value(key, name, "a module name (a string such as 'my_ocr.necks')")
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            if allow_failed:
                (warn or _warn)(f"{key}: {name!r} failed to import and is ignored ({exc})")
                modules.append(None)
                continue
            raise UserError(f"{key}: cannot import {name!r} ({type(exc).__name__}: {exc}; "
                            f"searched sys.path and {os.getcwd()})") from None
        except Exception as exc:  # noqa: BLE001 - the user's module raised while importing
            raise UserError(f"{key}: importing {name!r} raised {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())}{_where(exc)}") from None
    return modules


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if isinstance(exc, SyntaxError) and exc.filename:
        return f" ({exc.filename}:{exc.lineno})"
    own = [f for f in frames if "importlib" not in f.filename]
    return f" ({own[-1].filename}:{own[-1].lineno})" if own else ""


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)

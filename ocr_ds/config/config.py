"""Config files as mmcv 1.x ``Config`` loads them, and the final config written back out.

Covers ``.py``/``.json``/``.yaml`` files, ``_base_`` inheritance with ``_delete_``, the
``{{ fileDirname }}``-style and ``{{ _base_.a.b }}`` substitutions, merging ``--cfg-options``
(:meth:`Config.merge_from_dict`) and :meth:`Config.dump` (the merging itself is in
:mod:`ocr_ds.config.merge`, the writers in :mod:`ocr_ds.config.dump`). :class:`ConfigDict` is a
real ``dict`` with attribute access (``cfg.data.train.pipeline[0].type``); :class:`Config` is the
top-level one and also knows its file name, so the rest of ocr_ds can treat a config as plain
nested data.
"""
from __future__ import annotations

import ast
import copy
import difflib
import json
import os
import re
import traceback
import uuid
from types import BuiltinFunctionType, FunctionType, ModuleType
from typing import Any, Mapping

import yaml

from ocr_ds.atomic import atomic_write
from ocr_ds.config.dump import _dump_text, _py_text, _YamlLoader
from ocr_ds.config.merge import (
    _OPTIONS,
    DELETE_KEY,  # noqa: F401 - re-exported for ocr_ds.config
    _Ctx,
    _merge,
    _plain,
    _strip_delete,
)
from ocr_ds.config.options import options_to_tree, parse_cfg_options
from ocr_ds.errors import UserError
from ocr_ds.extend import KEY as CUSTOM_IMPORTS
from ocr_ds.extend import import_custom_modules

BASE_KEY = "_base_"
# Config's own attributes, refused as top-level keys (mmcv refuses these and `text`)
RESERVED_KEYS = ("filename", "pretty_text")
EXTENSIONS = (".py", ".json", ".yaml", ".yml")


def _convert(value: Any) -> Any:
    """Dicts become ConfigDicts, also inside lists and tuples, so attribute access works at
    any depth. Containers that need no change are returned as they are (no needless copies)."""
    if isinstance(value, dict) and not isinstance(value, ConfigDict):
        return ConfigDict(value)
    if type(value) in (list, tuple):
        items = [_convert(v) for v in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        return type(value)(items)
    return value



class ConfigDict(dict):
    """A dict whose keys are also attributes, recursively. A missing key raises
    ``AttributeError`` (so ``getattr(cfg, 'x', default)`` works) and names close matches.

    As in mmcv, dict methods win over keys of the same name: use ``cfg['keys']`` for a key
    called ``keys``.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        self.update(*args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, _convert(value))

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> "ConfigDict":  # type: ignore[override]
        # dict.copy would return a plain dict and lose attribute access (and the file name)
        return copy.copy(self)

    def __getattr__(self, name: str) -> Any:
        # dunder lookups (pickle, copy, hasattr probes) must never be answered from the keys
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(self._missing_message(name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name):
            raise AttributeError(f"cannot set {name!r} as an attribute: {type(self).__name__} "
                                 f"has a method or property of that name; use cfg[{name!r}]")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(self._missing_message(name)) from None

    def __dir__(self) -> list[str]:
        return list(super().__dir__()) + [k for k in self if isinstance(k, str)]

    def _missing_message(self, name: str) -> str:
        keys = [str(k) for k in self]
        close = difflib.get_close_matches(name, keys, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        shown = ", ".join(keys[:20]) + (", ..." if len(keys) > 20 else "")
        return (f"'{type(self).__name__}' object has no attribute {name!r}: "
                f"no config key {name!r}{hint} (keys here: {shown or 'none'})")

    def to_dict(self) -> dict:
        """A plain nested copy: dicts, lists and tuples only, no ConfigDicts."""
        return _plain(self)


class Config(ConfigDict):
    """A whole config: a :class:`ConfigDict` plus the file it came from.

    ``Config.fromfile(path)`` loads a file; ``Config({'a': 1})`` wraps a dict.
    """

    def __init__(self, cfg_dict: Mapping[str, Any] | None = None,
                 filename: str | os.PathLike | None = None):
        cfg_dict = {} if cfg_dict is None else cfg_dict
        if not isinstance(cfg_dict, Mapping):
            raise TypeError(f"Config: expected a dict (got {type(cfg_dict).__name__})")
        _check_reserved(cfg_dict, filename)
        super().__init__(cfg_dict)
        object.__setattr__(self, "_filename", None if filename is None else os.fspath(filename))

    @property
    def filename(self) -> str | None:
        """The file this config was loaded from, as given to :meth:`fromfile`."""
        return self.__dict__.get("_filename")

    @staticmethod
    def fromfile(filename: str | os.PathLike,
                 cfg_options: list[str] | Mapping[str, Any] | None = None) -> "Config":
        """Load a config file with its ``_base_`` files, then merge ``cfg_options`` into it
        (``key=value`` tokens as on the command line, or an already parsed dict)."""
        path = os.path.abspath(os.path.expanduser(os.fspath(filename)))
        cfg = Config(_file_to_dict(path, chain=(), referrer=None), filename=filename)
        if cfg_options:
            if not isinstance(cfg_options, Mapping):
                cfg_options = parse_cfg_options(cfg_options)
            cfg.merge_from_dict(cfg_options)
        import_custom_modules(cfg)  # mmcv's fromfile(import_custom_modules=True)
        return cfg

    def merge_from_dict(self, options: Mapping[str, Any], allow_list_keys: bool = True) -> None:
        """Merge ``{'model.backbone.depth': 50, 'data.train.pipeline.0.type': 'X'}`` into this
        config. Dotted keys walk nested dicts; with ``allow_list_keys`` a numeric part indexes a
        list. Values replace what is there, except dicts, which merge (``_delete_`` works)."""
        tree = options_to_tree(options)
        merged = _merge(tree, self, "", _Ctx(_OPTIONS, allow_list_keys))
        _check_reserved(merged, None)
        dict.clear(self)
        self.update(merged)
        if CUSTOM_IMPORTS in tree:
            import_custom_modules(self)

    @property
    def pretty_text(self) -> str:
        """The config as the text of a ``.py`` file that loads back to an equal dict."""
        return _py_text(self)

    def dump(self, file: str | os.PathLike | None = None) -> str | None:
        """Write the config to ``file`` (``.py``, ``.json``, ``.yaml``/``.yml``, chosen by
        extension) atomically; without ``file``, return the text in the format of
        :attr:`filename` (``.py`` if unknown)."""
        target = file if file is not None else (self.filename or "config.py")
        text = _dump_text(self, _extension(os.fspath(target)), os.fspath(target))
        if file is None:
            return text
        atomic_write(os.fspath(file), text)
        return None

    def __repr__(self) -> str:
        return f"Config (path: {self.filename}): {dict.__repr__(self)}"


def _check_reserved(cfg_dict: Mapping[str, Any], filename: Any) -> None:
    for key in RESERVED_KEYS:
        if key in cfg_dict:
            where = f"{os.fspath(filename)}: " if filename is not None else ""
            raise UserError(f"{where}{key!r} is a reserved name and cannot be a top-level config "
                            f"key (reserved: {', '.join(RESERVED_KEYS)})")


def _extension(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in EXTENSIONS:
        raise UserError(f"{path}: expected a config file ending in {', '.join(EXTENSIONS)} "
                        f"(got {ext or 'no extension'!r})")
    return ext


# ---------------------------------------------------------------------------------- loading

def _file_to_dict(path: str, chain: tuple[str, ...], referrer: str | None) -> dict:
    """Load one file and, recursively, its ``_base_`` files; return the merged plain dict.
    ``chain`` holds the real paths of the files that led here, to catch ``_base_`` cycles."""
    ext = _extension(path)
    if not os.path.isfile(path):
        via = f" (_base_ of {referrer})" if referrer else ""
        raise UserError(f"{path}: config file not found{via}")
    real = os.path.realpath(path)
    if real in chain:
        cycle = " -> ".join(chain[chain.index(real):] + (real,))
        raise UserError(f"{path}: circular _base_: {cycle}")
    from ocr_ds.fileio import read_text

    text = read_text(path, "config file")  # a BOM is accepted, as mmcv does
    text = _substitute_file_vars(text, path)
    is_py = ext == ".py"
    text, refs = _hide_base_refs(text, quote=not is_py)
    bases = early = None
    if is_py:
        code, early, names = _compile_py(text, path)
        used = {ph: ref for ph, ref in refs.items() if ph in names}  # not those in comments
        if used and early is not None:
            bases = _load_bases(early, path, chain + (real,))
        # in a .py file each reference is a variable: the real value when the bases could be
        # loaded first (a literal _base_), so it works inside any expression; else mmcv's
        # placeholder string, replaced after loading (whole values only)
        cfg = _exec_py(code, path, {ph: ph if bases is None else _lookup(bases, ref, path)
                                    for ph, ref in used.items()})
    else:
        cfg = _load_data(text, path, ext)
    if BASE_KEY not in cfg:
        if refs:
            first = next(iter(refs.values()))
            raise UserError(f"{path}: uses {{{{ _base_.{first} }}}} but has no _base_ to take "
                            f"it from")
        return _strip_delete(cfg)
    base_value = cfg.pop(BASE_KEY)
    if bases is None or base_value != early:
        bases = _load_bases(base_value, path, chain + (real,))
    cfg = _substitute_base_refs(cfg, refs, bases, path)
    return _merge(cfg, bases, "", _Ctx(path, allow_list_keys=False))


def _load_bases(value: Any, path: str, chain: tuple[str, ...]) -> dict:
    """Load and join the ``_base_`` files of ``path``; no key may come from two of them."""
    merged: dict = {}
    origin: dict = {}
    for base in _base_list(value, path):
        base_path = os.path.join(os.path.dirname(path), os.path.expanduser(base))
        base_cfg = _file_to_dict(base_path, chain, referrer=path)
        for key in base_cfg:
            if key in merged:
                raise UserError(f"Duplicate key is not allowed among bases: {key!r} is in both "
                                f"{origin[key]} and {base} (_base_ of {path})")
            origin[key] = base
        merged.update(base_cfg)
    return merged


def _base_list(value: Any, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise UserError(f"{path}: _base_: expected a file path or a list of file paths "
                    f"(got {value!r})")


def _substitute_file_vars(text: str, path: str) -> str:
    base = os.path.basename(path)
    values = {
        "fileDirname": os.path.dirname(path),
        "fileBasename": base,
        "fileBasenameNoExtension": os.path.splitext(base)[0],
        "fileExtname": os.path.splitext(path)[1],
    }
    for name, value in values.items():
        # forward slashes keep Windows paths valid inside Python/YAML string literals
        value = value.replace("\\", "/")
        text = re.sub(r"\{\{\s*" + name + r"\s*\}\}", lambda _m, v=value: v, text)
    return text


_BASE_REF = re.compile(r"\{\{\s*" + BASE_KEY + r"\.([\w.]+)\s*\}\}")


def _hide_base_refs(text: str, quote: bool) -> tuple[str, dict[str, str]]:
    """Replace each ``{{ _base_.a.b }}`` with a placeholder name (quoted: a string), so the
    file parses; :func:`_substitute_base_refs` puts the real objects in after loading."""
    refs: dict[str, str] = {}
    tag = uuid.uuid4().hex[:8]

    def hide(match: re.Match) -> str:
        placeholder = f"_ocr_ds_base_ref_{tag}_{len(refs)}"
        refs[placeholder] = match.group(1)
        return f'"{placeholder}"' if quote else placeholder

    return _BASE_REF.sub(hide, text), refs


def _substitute_base_refs(value: Any, refs: dict[str, str], bases: dict, path: str) -> Any:
    if not refs:
        return value
    if isinstance(value, dict):
        return {k: _substitute_base_refs(v, refs, bases, path) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_substitute_base_refs(v, refs, bases, path) for v in value)
    if isinstance(value, str):
        if value in refs:
            return _lookup(bases, refs[value], path)
        for placeholder, ref in refs.items():
            if placeholder in value:
                raise UserError(f"{path}: {{{{ _base_.{ref} }}}} can only stand for a whole "
                                f"value (e.g. `x = {{{{ _base_.{ref} }}}}`), not part of one")
    return value


def _lookup(bases: dict, ref: str, path: str) -> Any:
    node: Any = bases
    for i, part in enumerate(ref.split(".")):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            where = ".".join(ref.split(".")[:i]) or "the top level"
            raise UserError(f"{path}: {{{{ _base_.{ref} }}}}: the _base_ files have no key "
                            f"{part!r} at {where}")
    # a copy: the child may go on to change it, and the base value must not change with it
    return _plain(node)


def _load_data(text: str, path: str, ext: str) -> dict:
    try:
        if ext == ".json":
            cfg = json.loads(text)
        else:
            cfg = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{path}{line}: invalid YAML: {problem}") from None
    if cfg is None and ext != ".json":
        cfg = {}  # an empty YAML file is an empty config
    if not isinstance(cfg, dict):
        raise UserError(f"{path}: expected a mapping of keys at the top level "
                        f"(got {type(cfg).__name__})")
    return cfg


def _compile_py(text: str, path: str) -> tuple[Any, Any, set[str]]:
    """Compile a ``.py`` config; also return its ``_base_`` if it is a plain literal, and the
    variable names it uses."""
    try:
        tree = ast.parse(text, path)
    except SyntaxError as exc:
        raise UserError(f"{path}:{exc.lineno}: syntax error in config: {exc.msg}") from None
    early = None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == BASE_KEY):
            try:
                early = ast.literal_eval(node.value)
            except ValueError:
                early = None
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    return compile(tree, path, "exec", dont_inherit=True), early, names


def _exec_py(code: Any, path: str, refs: dict[str, Any]) -> dict:
    """Run a ``.py`` config in a fresh namespace, as mmcv does: it is the user's own file.
    (Values from ``--cfg-options`` never come through here and are never evaluated.)
    ``refs`` are the ``{{ _base_.x }}`` placeholder variables and their values."""
    namespace: dict[str, Any] = {"__file__": path, "__name__": "__ocr_ds_config__", **refs}
    try:
        exec(code, namespace)  # noqa: S102 - see docstring
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure in the user's file is theirs
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
        line = f":{lines[-1]}" if lines else ""
        # a placeholder is still a string when _base_ is not a literal, so `**{{ _base_.x }}`
        # fails with a confusing message (as in mmcv); say why
        late = any(isinstance(v, str) and v == name for name, v in refs.items())
        hint = ("; with a computed _base_, {{ _base_.* }} can only stand for a whole value, "
                "e.g. `x = {{ _base_.x }}`" if late else "")
        raise UserError(f"{path}{line}: error while running the config: "
                        f"{type(exc).__name__}: {exc}{hint}") from exc
    skip = (ModuleType, FunctionType, BuiltinFunctionType, type)
    return {k: v for k, v in namespace.items()
            if not k.startswith("__") and k not in refs and not isinstance(v, skip)}

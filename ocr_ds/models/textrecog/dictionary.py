"""Character dictionaries of MMOCR 0.x recognisers (``dict_type`` / ``dict_file`` / ``dict_list``).

Pure Python, so a dataset can check its labels against the model's charset without building a
model (``OCRDataset(charset=...)``).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ocr_ds.errors import UserError, unknown_name

DICTS: dict[str, str] = {
    "DICT36": "0123456789abcdefghijklmnopqrstuvwxyz",
    "DICT90": ("0123456789abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()"
               "*+,-./:;<=>?@[\\]_`~"),
    # with the space character
    "DICT37": "0123456789abcdefghijklmnopqrstuvwxyz ",
    "DICT91": ("0123456789abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()"
               "*+,-./:;<=>?@[\\]_`~ "),
}


def load_chars(dict_type: str = "DICT90", dict_file: str | None = None,
               dict_list: Sequence[str] | None = None, key: str = "label_convertor") -> list[str]:
    """The character list, by MMOCR's priority: ``dict_file`` > ``dict_list`` > ``dict_type``.

    A ``dict_file`` has one character per line (empty lines skipped).
    """
    if dict_file is not None:
        chars = []
        try:
            with open(dict_file, encoding="utf-8") as f:
                for line_num, line in enumerate(f, 1):
                    line = line.strip("\r\n")
                    if len(line) > 1:
                        raise UserError(f"{key}.dict_file: {dict_file}:{line_num}: expected one "
                                        f"character per line (got {line!r})")
                    if line:
                        chars.append(line)
        except FileNotFoundError:
            raise UserError(f"{key}.dict_file: file not found: {dict_file}") from None
    elif dict_list is not None:
        chars = list(dict_list)
    elif dict_type in DICTS:
        chars = list(DICTS[dict_type])
    else:
        raise unknown_name(f"{key}.dict_type", dict_type, DICTS)
    if len(set(chars)) != len(chars):
        dup = sorted({c for c in chars if chars.count(c) > 1})
        raise UserError(f"{key}: duplicated characters in the dictionary: {dup}")
    return chars


class Charset:
    """Which label texts a recogniser can learn: the dictionary, ``lower`` and ``with_unknown``.

    Built from what a config can give: a dict type name (``'DICT36'``), a list of characters, or
    a label-convertor dict (``dict(type='CTCConvertor', dict_type=..., lower=..., ...)``).
    """

    def __init__(self, chars: Sequence[str], lower: bool = False, with_unknown: bool = False):
        self.chars = frozenset(chars)
        self.lower = lower
        self.with_unknown = with_unknown

    @classmethod
    def from_spec(cls, spec: Any, key: str = "charset") -> "Charset":
        if isinstance(spec, Charset):
            return spec
        if isinstance(spec, str):
            return cls(load_chars(dict_type=spec, key=key))
        if isinstance(spec, (list, tuple)):
            return cls(load_chars(dict_list=list(spec), key=key))
        if isinstance(spec, Mapping):
            chars = load_chars(spec.get("dict_type", "DICT90"), spec.get("dict_file"),
                               spec.get("dict_list"), key=key)
            # MMOCR's CTCConvertor default is with_unknown=True; an explicit value wins
            return cls(chars, bool(spec.get("lower", False)), bool(spec.get("with_unknown", True)))
        raise UserError(f"{key}: expected a dict type name, a list of characters or a "
                        f"label_convertor dict (got {spec!r})")

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` the recogniser cannot represent (empty when all fit)."""
        if self.with_unknown:
            return []
        if self.lower:
            text = text.lower()
        return sorted({c for c in text if c not in self.chars})

"""Annotation line parsers (MMOCR 0.x ``LineStrParser`` / ``LineJsonParser``).

``parse(line) -> dict`` turns one annotation line into ``{'filename': ..., 'text': ...}`` (or
whatever ``keys`` say) and raises :class:`ValueError` for a line it cannot read; the loader turns
that into an :class:`~ocr_ds.datasets.invalid.InvalidSample` naming the file and line.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Sequence

from ocr_ds.errors import UserError

logger = logging.getLogger("ocr_ds")


class LineStrParser:
    """Split a line on ``separator`` and pick ``keys_idx`` fields for ``keys``.

    As in MMOCR, the line is stripped first (``strip``, ``strip_pos``, ``strip_str`` as mmocr's
    ``StringStrip``), and a field index picks exactly one field: text containing the separator
    is cut at it (MMOCR warns and points to ``LineJsonParser``; so do we, once).

    Args:
        keys: Result keys. Defaults to ``['filename', 'text']``.
        keys_idx: Field index of each key. Defaults to ``[0, 1]``.
        separator: Field separator. Defaults to ``' '``.
    """

    _warned_extra = False

    def __init__(self, keys: Sequence[str] = ("filename", "text"),
                 keys_idx: Sequence[int] = (0, 1), separator: str = " ", strip: bool = True,
                 strip_pos: str = "both", strip_str: str | None = None, **kwargs: Any):
        if len(keys) == 0 or len(keys) != len(keys_idx):
            raise UserError(f"LineStrParser: keys {list(keys)} and keys_idx {list(keys_idx)} "
                            "must be non-empty and of the same length")
        if strip_pos not in ("both", "left", "right"):
            raise UserError(f"LineStrParser.strip_pos: expected 'both', 'left' or 'right' "
                            f"(got {strip_pos!r})")
        self.keys = list(keys)
        self.keys_idx = [int(i) for i in keys_idx]
        self.separator = separator
        self.strip, self.strip_pos, self.strip_str = strip, strip_pos, strip_str

    def _strip(self, line: str) -> str:
        if not self.strip:
            return line
        if self.strip_pos == "left":
            return line.lstrip(self.strip_str)
        if self.strip_pos == "right":
            return line.rstrip(self.strip_str)
        return line.strip(self.strip_str)

    def parse(self, line: str) -> dict[str, Any]:
        fields = self._strip(line).split(self.separator)
        if len(fields) <= max(self.keys_idx):
            raise ValueError(f"{len(fields)} field(s), need index {max(self.keys_idx)}")
        if len(fields) > len(self.keys) and not LineStrParser._warned_extra:
            LineStrParser._warned_extra = True
            logger.warning("LineStrParser: a line has more fields than keys (%r); text with "
                           "separators is cut at them, as in MMOCR: use LineJsonParser for "
                           "such annotations", line)
        return {key: fields[idx] for key, idx in zip(self.keys, self.keys_idx)}


class LineJsonParser:
    """Parse a JSON object per line and keep ``keys`` (each must be present)."""

    def __init__(self, keys: Sequence[str] = ("filename", "text"), **kwargs: Any):
        if len(keys) == 0:
            raise UserError("LineJsonParser.keys: expected at least one key")
        self.keys = list(keys)

    def parse(self, line: str) -> dict[str, Any]:
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        missing = [k for k in self.keys if k not in obj]
        if missing:
            raise ValueError(f"missing key(s) {missing}")
        return {key: obj[key] for key in self.keys}

"""Annotation loaders for recognition datasets (MMOCR 0.x ``AnnFileLoader`` and its old names).

A loader holds the raw annotations and parses one on access (``loader[i]``), as MMOCR does, so
a 9-million-line Syn90k list costs a list of strings, not a list of dicts. ``len(loader)`` is
the number of annotations times ``repeat``; index ``i`` reads annotation ``i % n``.

Formats (``file_format``):

* ``'txt'``: one annotation per line, read by the ``parser`` (``LineStrParser`` for
  ``path TEXT``, ``LineJsonParser`` for JSON lines).
* ``'lmdb'``, read with ``LineJsonParser`` (a ``LineStrParser`` is refused, as MMOCR 0.6.3
  does: an lmdb's lines reach the parser as JSON):

  - MMOCR 0.6 (``recog2lmdb``): ``num-samples`` and ``label-%09d`` (1-based). With
    ``image-%09d`` values too, annotation i is ``{"filename": "image-%09d", "text": label}`` and
    the images are read from the same lmdb (``LoadImageFromLMDB``, ``img_prefix`` = the lmdb
    dir); without, each label value is a JSON line (``--label-only``).
  - MMOCR 0.5 (``txt2lmdb``): ``total_number`` and the lines of a label file under keys ``0``,
    ``1``, ... A line of two space-separated fields becomes ``{"filename", "text"}``, one of four
    ``{"filename", "height", "width", "annotations"}`` (MMOCR 0.6.3's reading); any other line
    (e.g. JSON) goes to the parser as it is.

The lmdb environment is opened lazily in the process that reads (a data-loader worker), never
kept by the constructor (it opens one briefly to read the count, then closes it) and never
pickled.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping

from ocr_ds.datasets.invalid import EMPTY_ANNOTATION, MALFORMED_ANNOTATION, InvalidSample
from ocr_ds.errors import UserError, bad_value
from ocr_ds.fileio import LmdbBackend, lmdb_read_once, read_text
from ocr_ds.registry import PARSERS, build


class _LmdbAnnotations:
    """Annotation lines of an MMOCR recognition lmdb (0.6's layout or 0.5's)."""

    def __init__(self, path: str):
        import lmdb

        if not os.path.isdir(path):
            raise UserError(f"ann_file: lmdb directory not found: {path}")
        try:
            # short-lived: readers open their own environment, per process
            count, old_count, image = lmdb_read_once(
                path, [b"num-samples", b"total_number", b"image-000000001"])
        except lmdb.Error as exc:
            raise UserError(f"ann_file: cannot open lmdb {path}: {exc}") from None
        self.deprecated_format = count is None and old_count is not None
        self.has_images = image is not None and not self.deprecated_format
        if count is None and old_count is None:
            raise UserError(f"ann_file: {path}: no 'num-samples' key (MMOCR 0.6's recog2lmdb) "
                            "nor 'total_number' (0.5's txt2lmdb); expected an MMOCR recognition "
                            "lmdb")
        key = "num-samples" if count is not None else "total_number"
        raw = count if count is not None else old_count
        try:
            self.total = int(raw.decode("utf-8"))
        except ValueError:
            raise UserError(f"ann_file: {path}: {key} is not an integer "
                            f"(got {raw[:20]!r})") from None
        if self.total < 1:
            raise UserError(f"ann_file: {path}: {key}: expected a positive count of labels "
                            f"(got {self.total})")
        # the last label must be there: a count larger than the labels would fail mid-epoch
        first, last_key = self.key(0), self.key(self.total - 1)
        (last,) = lmdb_read_once(path, [last_key.encode()])
        if last is None:
            raise UserError(f"ann_file: {path}: {key} is {self.total}, but there is no "
                            f"{last_key}; expected {first} .. {last_key} (a count that "
                            "matches the labels)")
        self.path = path
        self._reader = LmdbBackend(path)

    def key(self, index: int) -> str:
        """The lmdb key of annotation ``index`` (0-based)."""
        return str(index) if self.deprecated_format else f"label-{index + 1:09d}"

    def line(self, index: int) -> str:
        """The annotation line ``index`` as the parser gets it (MMOCR 0.6.3's
        ``LmdbAnnFileBackend``); ``FileNotFoundError`` if the key is missing."""
        value = self._reader.get_text(self.key(index))
        if self.deprecated_format:
            # MMOCR strips '/n' here (meaning '\n'), which also cut a trailing 'n' or '/'
            # off texts; txt2lmdb stored lines without newlines, so nothing is stripped.
            fields = value.split(" ")
            if len(fields) == 2:
                return json.dumps(dict(filename=fields[0], text=fields[1]), ensure_ascii=False)
            if len(fields) == 4:
                return json.dumps(dict(zip(("filename", "height", "width", "annotations"),
                                           fields)), ensure_ascii=False)
            return value
        if self.has_images:
            return json.dumps(dict(filename=f"image-{index + 1:09d}", text=value),
                              ensure_ascii=False)
        return value

    def __len__(self) -> int:
        return self.total


class AnnFileLoader:
    """Load recognition annotations from a text file or an lmdb, parsed on access.

    Args:
        ann_file: Annotation file (txt) or lmdb directory.
        parser: Parser config, e.g. ``dict(type='LineStrParser', keys=['filename', 'text'],
            keys_idx=[0, 1], separator=' ')``.
        repeat: Times the annotations are repeated (a float keeps ``int(n * repeat)`` of
            them, as MMOCR). Defaults to 1.
        file_format: ``'txt'`` or ``'lmdb'``. Defaults to ``'txt'``.
        file_storage_backend: Only ``'disk'`` is supported. Defaults to ``'disk'``.
    """

    def __init__(self, ann_file: str, parser: Mapping[str, Any], repeat: float = 1,
                 file_format: str = "txt", file_storage_backend: str = "disk", **kwargs: Any):
        if not isinstance(repeat, (int, float)) or isinstance(repeat, bool) or not repeat > 0:
            raise bad_value("loader.repeat", repeat, "a number > 0")
        if file_format not in ("txt", "lmdb"):
            raise bad_value("loader.file_format", file_format, "'txt' or 'lmdb'")
        if file_storage_backend != "disk":
            raise bad_value("loader.file_storage_backend", file_storage_backend, "'disk'")
        if file_format == "lmdb" and isinstance(parser, Mapping) \
                and parser.get("type") == "LineStrParser":
            raise UserError("loader.parser.type: an lmdb is read with LineJsonParser, as in "
                            "MMOCR 0.6.3 (got 'LineStrParser'); use parser=dict(type="
                            "'LineJsonParser', keys=['filename', 'text'])")
        self.ann_file = str(ann_file)
        self.repeat = repeat
        self.file_format = file_format
        self.parser = build(PARSERS, parser, "loader.parser")
        self._lines: list[str] | None = None
        self._lmdb: _LmdbAnnotations | None = None
        if file_format == "lmdb":
            self._lmdb = _LmdbAnnotations(self.ann_file)
        else:
            self._lines = self._read_lines(self.ann_file)

    @staticmethod
    def _read_lines(path: str) -> list[str]:
        if not os.path.isfile(path):
            raise UserError(f"ann_file: file not found: {path}")
        # a BOM on the first line must not become part of a filename; lines end at \n, \r\n
        # or \r only, as when Python iterates a text file (MMOCR's list_from_file)
        text = read_text(path, "annotation file").replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        return lines[:-1] if lines and lines[-1] == "" else lines

    @property
    def has_images(self) -> bool:
        """Whether the images are stored with the labels (lmdb ``image-%09d``)."""
        return bool(self._lmdb is not None and self._lmdb.has_images)

    def num_annotations(self) -> int:
        """Annotations before ``repeat``."""
        return len(self._lmdb) if self._lmdb is not None else len(self._lines or [])

    def __len__(self) -> int:
        return int(self.num_annotations() * self.repeat)

    def where(self, index: int) -> str:
        """Where annotation ``index`` lives, for messages: ``file:line`` or ``lmdb:label-key``."""
        i = index % max(1, self.num_annotations())
        if self._lmdb is not None:
            return f"{self.ann_file}:{self._lmdb.key(i)}"
        return f"{self.ann_file}:{i + 1}"

    def __getitem__(self, index: int) -> dict[str, Any]:
        n = self.num_annotations()
        if not 0 <= index < len(self):
            raise IndexError(index)
        i = index % n
        where = self.where(i)
        if self._lmdb is not None:
            try:
                line = self._lmdb.line(i)
            except FileNotFoundError:
                raise InvalidSample(MALFORMED_ANNOTATION, where, "key missing") from None
            except UnicodeDecodeError:
                raise InvalidSample(MALFORMED_ANNOTATION, where, "not UTF-8") from None
        else:
            line = self._lines[i]  # type: ignore[index]
        if not line.strip():
            raise InvalidSample(EMPTY_ANNOTATION, where, "blank line")
        try:
            return self.parser.parse(line)
        except ValueError as exc:
            raise InvalidSample(MALFORMED_ANNOTATION, where, str(exc)) from None

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


class HardDiskLoader(AnnFileLoader):
    """MMOCR's older name for a text annotation file loader."""

    def __init__(self, ann_file: str, parser: Mapping[str, Any], repeat: float = 1,
                 **kwargs: Any):
        kwargs.pop("file_format", None)
        super().__init__(ann_file, parser, repeat, file_format="txt", **kwargs)


class LmdbLoader(AnnFileLoader):
    """MMOCR's older name for an lmdb annotation loader."""

    def __init__(self, ann_file: str, parser: Mapping[str, Any], repeat: float = 1,
                 **kwargs: Any):
        kwargs.pop("file_format", None)
        super().__init__(ann_file, parser, repeat, file_format="lmdb", **kwargs)

"""Bad data: one exception to signal it, one counter to report it.

A loader, parser or pipeline step that meets a sample it cannot use (a missing or undecodable
image, an empty or malformed annotation line, a character outside the charset) raises
:class:`InvalidSample` naming the kind and where it was found. The dataset then either skips the
sample (counted, with ONE warning per kind on the ``ocr_ds`` logger, per process) or, when
configured to fail fast, turns it into a one-line :class:`~ocr_ds.errors.UserError`.
"""
from __future__ import annotations

import logging
from collections import Counter

from ocr_ds.errors import UserError

logger = logging.getLogger("ocr_ds")

# The kinds a warning is grouped by (kept few, so a bad data set gives a short log).
MISSING_IMAGE = "missing image"
UNDECODABLE_IMAGE = "undecodable image"
EMPTY_ANNOTATION = "empty annotation"
MALFORMED_ANNOTATION = "malformed annotation"
OUT_OF_CHARSET = "character outside the charset"


class InvalidSample(Exception):
    """A sample that cannot be used. ``where`` is ``file:line``, an lmdb key or an image path."""

    def __init__(self, kind: str, where: str, detail: str = ""):
        self.kind, self.where, self.detail = kind, where, detail
        super().__init__(f"{where}: {kind}" + (f" ({detail})" if detail else ""))

    def to_user_error(self) -> UserError:
        return UserError(f"{self}; set skip_invalid=True to skip such samples")


class SkipCounter:
    """How many samples of each kind this process skipped; warns once per kind."""

    def __init__(self, owner: str):
        self.owner = owner
        self.counts: Counter[str] = Counter()

    def record(self, exc: InvalidSample) -> None:
        self.counts[exc.kind] += 1
        if self.counts[exc.kind] == 1:
            logger.warning("%s: skipping bad samples (%s), first at %s%s; further ones are "
                           "counted, not logged", self.owner, exc.kind, exc.where,
                           f": {exc.detail}" if exc.detail else "")

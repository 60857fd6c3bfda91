"""What the inference tools share: reading weights and finding a config's test pipeline."""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

from ocr_ds.checkpoint_io import load_checkpoint_any as load_weights  # noqa: F401  (re-export)


def test_pipeline(cfg: Mapping[str, Any], default: Sequence[dict]) -> list[dict]:
    """``data.test`` (or ``data.val``) pipeline, or that of its first member dataset, else ``default``."""
    data = cfg.get("data") or {}
    for split in ("test", "val"):
        spec = data.get(split)
        if isinstance(spec, Mapping):
            if spec.get("pipeline"):
                return copy.deepcopy(list(spec["pipeline"]))
            for member in spec.get("datasets") or []:
                if isinstance(member, Mapping) and member.get("pipeline"):
                    return copy.deepcopy(list(member["pipeline"]))
    return copy.deepcopy(list(default))

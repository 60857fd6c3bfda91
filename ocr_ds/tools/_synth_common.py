"""What the data generators share: skip the work when ``out_dir/meta.json`` says it is done."""
from __future__ import annotations

import json
import os
from typing import Any, Callable, Mapping


def ensure_current(out_dir: str, wanted: Mapping[str, Any], generate: Callable[[], Any]) -> bool:
    """Call ``generate()`` unless ``out_dir/meta.json`` equals ``wanted``; True if it generated."""
    try:
        with open(os.path.join(out_dir, "meta.json"), encoding="utf-8") as f:
            if json.load(f) == dict(wanted):
                return False
    except (OSError, ValueError):
        pass
    generate()
    return True

"""``synth_data=dict(tool=..., out_dir=..., ...)``: make a demo config's generated data set.

Demo configs train on data rendered by our generators, so a fresh machine needs no download.
Local rank 0 of every node generates (each node may have its own disk), the others wait; a
generator skips the work when ``out_dir/meta.json`` records the same arguments.
"""
from __future__ import annotations

import importlib
import os
from typing import Any, Mapping

from ocr_ds.engine import dist
from ocr_ds.errors import UserError, bad_value

TOOLS = {"gen_recog_data": "ocr_ds.tools.gen_recog_data",
         "gen_det_data": "ocr_ds.tools.gen_det_data"}


def ensure_synth_data(spec: Mapping[str, Any] | None, logger: Any) -> None:
    if spec is None:
        return
    if not isinstance(spec, Mapping) or not spec.get("out_dir"):
        raise bad_value("synth_data", spec, "dict(tool=..., out_dir=..., num_train=..., num_test=...)")
    args = dict(spec)
    tool = args.pop("tool", None)
    if tool not in TOOLS:
        raise UserError(f"synth_data.tool: expected one of {', '.join(sorted(TOOLS))} (got {tool!r})")
    out_dir = args.pop("out_dir")
    if int(os.environ.get("LOCAL_RANK", "0")) == 0:
        module = importlib.import_module(TOOLS[tool])
        try:
            made = module.ensure_generated(out_dir, **args)
        except TypeError as exc:
            raise UserError(f"synth_data: {exc}") from None
        if made:
            logger.info("generated the %s data set in %s", tool, out_dir)
    dist.barrier()

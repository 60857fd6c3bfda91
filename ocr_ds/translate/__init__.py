"""Config -> DeepSpeed JSON: a pure translation (never imports deepspeed).

``translate(cfg, world_size=..., accelerator=...)`` returns a :class:`Translation` (the dict for
``deepspeed.initialize(config=...)`` and notes for stderr); ``load_ds_json`` reads the user's
DeepSpeed JSON file; ``render_markdown_table`` prints the README's mapping table.
"""
from ocr_ds.translate.deepspeed_json import Translation, load_ds_json, translate
from ocr_ds.translate.table import TRANSLATION_TABLE, render_markdown_table

__all__ = ["Translation", "translate", "load_ds_json", "TRANSLATION_TABLE",
           "render_markdown_table"]

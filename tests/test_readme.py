"""The README stays true: the translation table matches the code, every CLI flag is documented,
and the commands it names exist."""
from __future__ import annotations

import os
import re

from ocr_ds.train import build_parser
from ocr_ds.translate import render_markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    README = f.read()


def test_translation_table_is_the_generated_one():
    assert render_markdown_table().strip() in README


def test_every_train_flag_is_documented():
    flags = {s for a in build_parser()._actions for s in a.option_strings if s not in ("-h", "--help")}
    missing = sorted(f for f in flags if f"`{f}" not in README)
    assert not missing, missing


def test_quick_start_commands_exist():
    with open(os.path.join(ROOT, "Makefile")) as f:
        makefile = f.read()
    for target in ("demo", "test"):
        assert f"make {target}" in README and re.search(rf"^{target}:", makefile, re.M)
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        assert "make test" in f.read()  # CI runs the README's test command

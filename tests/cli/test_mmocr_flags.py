"""Every flag of MMOCR 0.6.3's ``tools/train.py`` and ``tools/test.py`` (read from the reference
venv's own files) is a flag of ``ocr_ds/train.py`` and ``ocr_ds/test.py``: a command line
written for MMOCR is not refused as ``unrecognized arguments``."""
import ast
import os

import pytest

from ocr_ds import test as test_py
from ocr_ds import train as train_py


def _flags(path: str) -> set[str]:
    """The option strings of every ``parser.add_argument`` / ``group.add_argument`` call."""
    with open(path) as f:
        tree = ast.parse(f.read())
    return {arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
            for arg in node.args
            if isinstance(arg, ast.Constant) and str(arg.value).startswith("--")}


@pytest.mark.parametrize("tool,module", [("train.py", train_py), ("test.py", test_py)])
def test_every_mmocr_flag_is_accepted(mmocr_configs, tool, module):
    theirs = _flags(os.path.join(os.path.dirname(mmocr_configs), "tools", tool))
    assert {"--work-dir", "--cfg-options", "--launcher"} & theirs     # the file was read
    ours = set(module.build_parser()._option_string_actions)
    assert theirs - ours == set(), f"MMOCR's {tool} flags missing here: {sorted(theirs - ours)}"

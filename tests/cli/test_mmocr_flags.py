"""Every flag of MMOCR 0.6.3's command-line scripts (read from the reference venv's own files:
``tools/train.py``, ``tools/test.py``, ``mmocr/utils/ocr.py``, the tools and every converter of
``tools/data``) is a flag of its ocr_ds counterpart: a command line written for MMOCR is not
refused as ``unrecognized arguments``. (``det_test_imgs``/``recog_test_imgs`` have their own
flags here.)"""
import argparse
import ast
import glob
import importlib
import os

import pytest

# MMOCR's script (relative to its package's .mim/tools, or mmocr/ for ocr.py) -> ours
SCRIPTS = {
    "train.py": "ocr_ds.train", "test.py": "ocr_ds.test",
    "analyze_logs.py": "ocr_ds.tools.analyze_logs",
    "misc/print_config.py": "ocr_ds.tools.print_config",
    "publish_model.py": "ocr_ds.tools.publish_model",
    "benchmark_processing.py": "ocr_ds.tools.benchmark_processing",
    "data/utils/lmdb_converter.py": "ocr_ds.tools.to_lmdb",
    "../../utils/ocr.py": "ocr_ds.tools.ocr",
    "deployment/pytorch2onnx.py": "ocr_ds.tools.deployment.pytorch2onnx",
    "deployment/deploy_test.py": "ocr_ds.tools.deployment.deploy_test",
    "deployment/onnx2tensorrt.py": "ocr_ds.tools.deployment.onnx2tensorrt",
    "deployment/mmocr2torchserve.py": "ocr_ds.tools.deployment.mmocr2torchserve",
    "deployment/test_torchserve.py": "ocr_ds.tools.deployment.test_torchserve",
}


def _theirs(path: str) -> set[str]:
    """The option strings (long and short) of every ``add_argument`` call of the script."""
    with open(path) as f:
        tree = ast.parse(f.read())
    return {arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument"
            for arg in node.args
            if isinstance(arg, ast.Constant) and str(arg.value).startswith("-")}


class _Parser(Exception):
    pass


def _ours(module: str, monkeypatch) -> set[str]:
    """The option strings of the parser ``module.main`` builds (and of its sub-commands)."""
    def capture(self, *args, **kwargs):
        raise _Parser(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", capture)
    monkeypatch.setattr(argparse.ArgumentParser, "parse_known_args", capture)
    with pytest.raises(_Parser) as got:
        importlib.import_module(module).main([])

    def options(parser):
        out = set(parser._option_string_actions)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    out |= options(sub)
        return out

    return options(got.value.args[0])


@pytest.fixture(scope="module")
def tools_dir(mmocr_configs):
    return os.path.join(os.path.dirname(mmocr_configs), "tools")


def _converters(tools):
    return sorted(os.path.relpath(p, tools)
                  for p in glob.glob(os.path.join(tools, "data", "*", "*.py"))
                  if "/utils/" not in p)


def test_every_mmocr_flag_is_accepted(tools_dir, monkeypatch):
    pairs = dict(SCRIPTS)
    for rel in _converters(tools_dir):
        pairs[rel] = "ocr_ds.tools." + rel[:-3].replace("/", ".")
    assert len(pairs) > 60                      # every converter of tools/data, and the tools
    missing = {}
    for rel, module in pairs.items():
        theirs = _theirs(os.path.normpath(os.path.join(tools_dir, rel)))
        with monkeypatch.context() as m:
            ours = _ours(module, m)
        if theirs - ours:
            missing[rel] = sorted(theirs - ours)
    assert {"--work-dir", "--cfg-options"} <= _theirs(os.path.join(tools_dir, "train.py"))
    assert missing == {}, f"MMOCR's flags missing here: {missing}"

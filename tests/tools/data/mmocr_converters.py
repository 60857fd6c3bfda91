"""Ref side of the dataset-converter parity tests: MMOCR 0.6.3's own ``tools/data`` scripts,
run as their command lines run them (``runpy`` with ``sys.argv``), in the reference venv."""
import os
import runpy
import sys

import mmocr


def run_scripts(runs):
    """``runs``: ``[(script relative to tools/data, [args...]), ...]``, run in order; returns
    ``None`` per run, or the exception's one-line text where the script raised."""
    tools = os.path.join(os.path.dirname(mmocr.__file__), ".mim", "tools", "data")
    results = []
    for script, argv in runs:
        path = os.path.join(tools, script)
        saved = sys.argv
        sys.argv = [path] + list(argv)
        try:
            runpy.run_path(path, run_name="__main__")
            results.append(None)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            sys.argv = saved
    return results

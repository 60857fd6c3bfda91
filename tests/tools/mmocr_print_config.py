"""Ref side of test_print_config.py: MMOCR 0.6.3's own tools/misc/print_config.py."""
import contextlib
import io
import os
import runpy
import sys

import mmocr

SCRIPT = os.path.join(os.path.dirname(mmocr.__file__), '.mim', 'tools', 'misc',
                      'print_config.py')


def run(argvs):
    """What the script prints for each argument list."""
    out = []
    for argv in argvs:
        sys.argv = ['print_config.py', *argv]
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            runpy.run_path(SCRIPT, run_name='__main__')
        out.append(text.getvalue())
    return out

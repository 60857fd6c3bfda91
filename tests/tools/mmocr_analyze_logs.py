"""Ref side of test_analyze_logs.py: MMOCR 0.6.3's own tools/analyze_logs.py (shipped in the
wheel under mmocr/.mim/tools) on the test's logs. The reference venv has matplotlib but not
seaborn, which the script imports for ``set_style`` only: a stand-in that does nothing."""
import contextlib
import importlib.util
import io
import os
import sys
import types

import matplotlib

import mmocr

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(mmocr.__file__), '.mim', 'tools', 'analyze_logs.py')


def _script():
    if 'seaborn' not in sys.modules:
        sys.modules['seaborn'] = types.SimpleNamespace(set_style=lambda style: None)
    spec = importlib.util.spec_from_file_location('mmocr_analyze_logs_script', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(calls):
    """Per call ``(task, argv)``: what the script printed, and for plot_curve each plotted
    curve ``(label, x axis name, xs, ys)`` (or the exception's type name)."""
    script = _script()
    out = []
    for task, argv in calls:
        sys.argv = ['analyze_logs.py', task, *argv]
        args = script.parse_args()
        plotted, axis = [], []
        real_plot, real_xlabel = plt.plot, plt.xlabel
        plt.plot = lambda xs, ys, label=None, **kw: plotted.append(
            (label, axis[-1], [float(x) for x in xs], [float(y) for y in ys]))
        plt.xlabel = axis.append
        text = io.StringIO()
        try:
            with contextlib.redirect_stdout(text):
                logs = script.load_json_logs(args.json_logs)
                getattr(script, task)(logs, args)
            error = None
        except Exception as exc:  # noqa: BLE001 -- the test compares which inputs fail
            error = type(exc).__name__
        finally:
            plt.plot, plt.xlabel = real_plot, real_xlabel
            plt.close('all')
        out.append(dict(text=text.getvalue(), curves=plotted, error=error))
    return out

"""MMOCR 0.6.3's ``tools/analyze_logs.py`` on the ``<timestamp>.log.json`` files training writes.

::

    python -m ocr_ds.tools.analyze_logs cal_train_time LOG.json [LOG.json ...] [--include-outliers]
    python -m ocr_ds.tools.analyze_logs plot_curve LOG.json [...] [--keys loss ...] \\
        [--title T] [--legend L ...] [--backend B] [--style dark] [--out FILE]

``cal_train_time`` prints, per log, the slowest and fastest epoch by mean iteration ``time``
(each epoch's first logged value left out unless ``--include-outliers``), the standard deviation
of the epoch means and the mean iteration time, as MMOCR does. ``plot_curve`` draws each
``--keys`` value of each log: a validation metric (a key of validation lines only) against the
epoch, anything else (losses, ``lr``, ``time``) against the global iteration; the legend is ``<log>_<key>`` unless ``--legend`` gives
one per log and key. It needs matplotlib (``pip install matplotlib``; seaborn for ``--style``
when installed, else matplotlib's own copy of that seaborn style).
"""
from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from ocr_ds.errors import CliParser, UserError, run_cli
from ocr_ds.outputs import check_file_creatable

class Log(dict):
    """``{epoch: {key: [values in line order]}}``, and ``val_keys``: the keys of validation
    lines that no training line has (the metrics, plotted per epoch)."""
    val_keys: set


def load_json_logs(paths: Sequence[str]) -> list[Log]:
    """Per log the values of every line with an ``epoch`` (mmcv's layout; the first line, the
    run's environment and config, has none)."""
    logs = []
    for path in paths:
        if not path.endswith(".json"):
            raise UserError(f"json_logs: expected the training's <timestamp>.log.json "
                            f"(got {path!r})")
        log, modes = Log(), defaultdict(set)
        try:
            with open(path, encoding="utf-8") as f:
                for number, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise UserError(f"json_logs: {path}:{number}: not a JSON line "
                                        f"({exc.msg})") from None
                    if not isinstance(entry, dict) or "epoch" not in entry:
                        continue
                    values = log.setdefault(entry.pop("epoch"), defaultdict(list))
                    for key, value in entry.items():
                        values[key].append(value)
                        modes[key].add(entry.get("mode"))
        except OSError as exc:
            raise UserError(f"json_logs: cannot read {path!r} ({exc.strerror or exc})") from None
        if not log:
            raise UserError(f"json_logs: {path} has no training lines")
        log.val_keys = {key for key, seen in modes.items() if seen == {"val"}}
        logs.append(log)
    return logs


def train_times(log: Log, path: str,
                include_outliers: bool) -> dict[int, list[float]]:
    times = {}
    for epoch, values in log.items():
        kept = values.get("time", []) if include_outliers else values.get("time", [])[1:]
        if not kept:
            raise UserError(f"json_logs: {path}: epoch {epoch} has "
                            f"{'no' if include_outliers else 'one or no'} training line with a "
                            f"'time'{'' if include_outliers else ' (try --include-outliers)'}")
        times[epoch] = kept
    return times


def cal_train_time(logs: list, args: argparse.Namespace) -> None:
    for path, log in zip(args.json_logs, logs):
        print(f'{"-" * 5}Analyze train time of {path}{"-" * 5}')
        times = train_times(log, path, args.include_outliers)
        epochs = list(times)
        means = np.array([np.mean(t) for t in times.values()])
        slowest, fastest = int(means.argmax()), int(means.argmin())
        print(f"slowest epoch {epochs[slowest]}, average time is {means[slowest]:.4f}")
        print(f"fastest epoch {epochs[fastest]}, average time is {means[fastest]:.4f}")
        print(f"time std over epochs is {means.std():.4f}")
        print(f"average iter time: {np.mean(np.concatenate(list(times.values()))):.4f} s/iter")
        print()


def curves(logs: list, paths: Sequence[str], keys: Sequence[str],
           legend: Sequence[str] | None) -> list[tuple[str, str, list, list]]:
    """``(label, x axis name, xs, ys)`` per log and key, as MMOCR's ``plot_curve`` computes them:
    a validation metric's values against the epochs with a validation line, anything else
    against ``iter + (epoch - 1) * iterations of the first epoch`` (its last training line's
    ``iter``). A metric is a key only validation lines have (MMOCR: a key that is part of one of
    its names, ``'hmean'``, ``'word_acc'``, ...: not ``'0_word_acc'`` or ``'hmean-iou:hmean'``,
    which it draws against iterations)."""
    if legend is None:
        legend = [f"{path}_{key}" for path in paths for key in keys]
    if len(legend) != len(paths) * len(keys):
        raise UserError(f"--legend: expected one label per log and key, "
                        f"{len(paths) * len(keys)} (got {len(legend)})")
    out = []
    for i, (path, log) in enumerate(zip(paths, logs)):
        epochs = list(log)
        for j, key in enumerate(keys):
            if not any(key in values for values in log.values()):
                found = sorted({k for values in log.values() for k in values} - {"mode"})
                raise UserError(f"--keys: {key!r} is not in {path} (it has: "
                                f"{', '.join(found)})")
            label = legend[i * len(keys) + j]
            if key in log.val_keys:
                xs = [e for e in epochs if "val" in log[e]["mode"]]
                ys = [v for e in epochs for v in log[e].get(key, [])]
                out.append((label, "epoch", xs, ys))
                continue
            first = log[epochs[0]]
            per_epoch = first["iter"][-2] if first["mode"][-1] == "val" else first["iter"][-1]
            xs, ys = [], []
            for epoch in epochs:
                iters = log[epoch]["iter"]
                if log[epoch]["mode"][-1] == "val":
                    iters = iters[:-1]
                xs += [it + (epoch - 1) * per_epoch for it in iters]
                ys += log[epoch].get(key, [])[:len(iters)]
            out.append((label, "iter", xs, ys))
    return out


def plot_curve(logs: list, args: argparse.Namespace) -> None:
    lines = curves(logs, args.json_logs, args.keys, args.legend)
    if args.out is not None:
        check_file_creatable(args.out, "--out")
    try:
        import matplotlib
    except ImportError:
        raise UserError("plot_curve: needs matplotlib, which is not installed "
                        "(pip install matplotlib)") from None
    if args.out is None and not args.backend and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("--out: no display to show the curves on ($DISPLAY is not set); "
                        "give --out FILE")
    if args.out is not None and not args.backend:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if args.backend is not None:
        plt.switch_backend(args.backend)
    _style(plt, args.style)
    pairs = [(path, key) for path in args.json_logs for key in args.keys]
    for (path, key), (label, axis, xs, ys) in zip(pairs, lines):
        print(f"Plot curve of {path}, metric is {key}")
        plt.xlabel(axis)
        if axis == "epoch":
            plt.plot(xs, ys, label=label, marker="o")
        else:
            plt.plot(xs, ys, label=label, linewidth=0.5)
        plt.grid()
        plt.legend()
    if args.title is not None:
        plt.title(args.title)
    if args.out is None:
        plt.show()
        return
    print(f"Save curve to: {args.out}")
    folder, name = os.path.split(os.path.abspath(args.out))
    partial = os.path.join(folder, f".{name}.partial{os.path.splitext(name)[1]}")
    try:
        os.makedirs(folder, exist_ok=True)
        plt.savefig(partial)        # the format from the extension, as savefig(args.out)
        os.replace(partial, args.out)
    except (OSError, ValueError) as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise UserError(f"--out: cannot write {args.out!r} ({exc})") from None
    plt.cla()


def _style(plt: Any, style: str) -> None:
    """seaborn's ``set_style(style)`` (what MMOCR calls), or matplotlib's copy of that style."""
    try:
        import seaborn
    except ImportError:
        name = f"seaborn-v0_8-{style}"
        if name not in plt.style.available:
            raise UserError(f"--style: expected one of darkgrid, whitegrid, dark, white, ticks "
                            f"(got {style!r})") from None
        plt.style.use(name)
        return
    seaborn.set_style(style)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = CliParser(prog="python -m ocr_ds.tools.analyze_logs",
                       description="Analyze Json Log")
    tasks = parser.add_subparsers(dest="task", required=True, parser_class=CliParser)
    plot = tasks.add_parser("plot_curve", help="plot curves of logged values")
    plot.add_argument("json_logs", nargs="+", help="training logs (<timestamp>.log.json)")
    plot.add_argument("--keys", nargs="+", default=["loss"], help="values to plot (loss)")
    plot.add_argument("--title", help="title of the figure")
    plot.add_argument("--legend", nargs="+", default=None,
                      help="one label per log and key (<log>_<key>)")
    plot.add_argument("--backend", default=None, help="matplotlib backend")
    plot.add_argument("--style", default="dark", help="seaborn style (dark)")
    plot.add_argument("--out", default=None, help="write the figure here instead of showing it")
    time = tasks.add_parser("cal_train_time", help="mean time per training iteration")
    time.add_argument("json_logs", nargs="+", help="training logs (<timestamp>.log.json)")
    time.add_argument("--include-outliers", action="store_true",
                      help="keep each epoch's first logged time")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logs = load_json_logs(args.json_logs)
    (cal_train_time if args.task == "cal_train_time" else plot_curve)(logs, args)
    return 0


if __name__ == "__main__":
    run_cli(main)

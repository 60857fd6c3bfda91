"""Print the learning rate of every training iteration of a config, as training will set it.

It reads ``optimizer.lr``, ``lr_config`` and the run length (``total_epochs``, or
``runner=dict(type='EpochBasedRunner', max_epochs=N)`` / ``dict(type='IterBasedRunner',
max_iters=N)``) and evaluates :class:`ocr_ds.schedules.LrSchedule` at every iteration, so a
schedule can be checked before a long run starts. The number of iterations per epoch depends on
the dataset, batch size and world size, so it is given on the command line (it is the ``63`` of
``Epoch [1][10/63]`` in a training log).

Text output has one line per iteration: the 0-based epoch index, the 0-based global iteration
and the lr (mmcv's log shows ``Epoch [epoch+1]`` and the lr as ``{:.3e}``). ``--json`` prints a
JSON list of the lr values only. Examples::

    python -m ocr_ds.tools.lr_curve configs/textdet/dbnet/dbnet_r18_fpnc_1200e_icdar2015.py \\
        --iters-per-epoch 63
    python -m ocr_ds.tools.lr_curve CONFIG --iters-per-epoch 63 --json > lr.json
    python -m ocr_ds.tools.lr_curve CONFIG --iters-per-epoch 63 --plot lr.png \\
        --cfg-options lr_config.warmup=linear lr_config.warmup_iters=500

``--momentum`` prints the momentum ``momentum_config`` schedules instead (SGD's ``momentum``,
Adam's ``betas[0]``, from ``optimizer.momentum`` / ``optimizer.betas``; Adam-like optimizers
default to 0.9)::

    python -m ocr_ds.tools.lr_curve CONFIG --iters-per-epoch 63 --momentum

``--plot`` needs matplotlib, which ocr_ds does not depend on (``pip install matplotlib``).
Mistakes in the config or the flags print one ``error:`` line and exit with code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ocr_ds.errors import CliParser, UserError, bad_value, run_cli
from ocr_ds.schedules import LrSchedule, MomentumSchedule
from ocr_ds.schedules.run import _positive_int, run_length


def base_lr(cfg: Mapping[str, Any]) -> float:
    """``optimizer.lr``, the base lr of every param group."""
    optimizer = cfg.get("optimizer")
    if not isinstance(optimizer, Mapping):
        raise bad_value("optimizer", optimizer, "a dict with an lr, e.g. dict(type='SGD', lr=0.01)")
    lr = optimizer.get("lr")
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool)):
        raise bad_value("optimizer.lr", lr, "a number")
    return float(lr)


#: optimizers whose betas[0] a momentum schedule sets when the config gives no betas (0.9 default)
_BETAS_DEFAULT = ("adam", "adamw", "adamax", "nadam", "radam", "lamb", "lion")


def base_momentum(cfg: Mapping[str, Any]) -> float:
    """``optimizer.momentum``, else ``optimizer.betas[0]``, else 0.9 for Adam-like optimizers."""
    optimizer = cfg.get("optimizer")
    if not isinstance(optimizer, Mapping):
        raise bad_value("optimizer", optimizer, "a dict with a momentum or betas")
    momentum, betas = optimizer.get("momentum"), optimizer.get("betas")
    if momentum is not None:
        if not (isinstance(momentum, (int, float)) and not isinstance(momentum, bool)):
            raise bad_value("optimizer.momentum", momentum, "a number")
        return float(momentum)
    if betas is not None:
        if not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(
                isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas)):
            raise bad_value("optimizer.betas", betas, "two numbers")
        return float(betas[0])
    if str(optimizer.get("type", "")).lower() in _BETAS_DEFAULT:
        return 0.9
    raise UserError(f"optimizer: --momentum needs optimizer.momentum or optimizer.betas "
                    f"(got neither for type {optimizer.get('type')!r})")


def _run(cfg: Mapping[str, Any], iters_per_epoch: int) -> tuple[int | None, int]:
    """``(max_epochs, max_iters)`` of the run, an epoch-based one's iterations counted from
    ``iters_per_epoch``."""
    if not _positive_int(iters_per_epoch):
        raise bad_value("--iters-per-epoch", iters_per_epoch, "a positive integer")
    max_epochs, max_iters = run_length(cfg)
    if max_iters is None:
        max_iters = max_epochs * iters_per_epoch  # type: ignore[operator]
    return max_epochs, max_iters


def momentum_curve(cfg: Mapping[str, Any],
                   iters_per_epoch: int) -> list[tuple[int, int, float]]:
    """``(epoch, global_iter, momentum)`` for every training iteration, from
    ``momentum_config`` (as :func:`lr_curve` for the lr)."""
    max_epochs, max_iters = _run(cfg, iters_per_epoch)
    schedule = MomentumSchedule.from_config(cfg.get("momentum_config"), max_epochs=max_epochs,
                                            max_iters=max_iters)
    if schedule is None:
        raise UserError("momentum_config: --momentum needs a momentum_config (got none: the "
                        "momentum stays as the optimizer sets it)")
    base = schedule.initial_momentum(base_momentum(cfg))
    return [(it // iters_per_epoch, it, schedule.momentum(base, it // iters_per_epoch, it))
            for it in range(max_iters)]


def lr_curve(cfg: Mapping[str, Any], iters_per_epoch: int) -> list[tuple[int, int, float]]:
    """``(epoch, global_iter, lr)`` for every training iteration of the run ``cfg`` describes.

    For an iteration-based run the epoch is ``global_iter // iters_per_epoch`` (passes over the
    loader, what mmcv's IterBasedRunner reports).
    """
    max_epochs, max_iters = _run(cfg, iters_per_epoch)
    schedule = LrSchedule.from_config(cfg.get("lr_config"), max_epochs=max_epochs,
                                      max_iters=max_iters, iters_per_epoch=iters_per_epoch)
    base = schedule.initial_lr(base_lr(cfg))
    return [(it // iters_per_epoch, it, schedule.lr(base, it // iters_per_epoch, it))
            for it in range(max_iters)]


def text_lines(curve: Sequence[tuple[int, int, float]], name: str = "lr") -> Iterator[str]:
    """One aligned ``epoch iter <name>`` line per iteration, after a ``#`` header."""
    last_epoch, last_iter = (curve[-1][0], curve[-1][1]) if curve else (0, 0)
    we, wi = max(len(str(last_epoch)), len("# epoch")), max(len(str(last_iter)), len("iter"))
    yield f"{'# epoch':<{we}} {'iter':>{wi}} {name}"
    for epoch, it, lr in curve:
        yield f"{epoch:>{we}} {it:>{wi}} {lr:.6e}"


def plot(curve: Sequence[tuple[int, int, float]], path: str, title: str,
         name: str = "lr") -> None:
    """Draw lr (or ``name``) against the global iteration into ``path`` (any format matplotlib
    knows)."""
    try:
        import matplotlib
    except ImportError:
        raise UserError(f"--plot: needs matplotlib, which is not installed "
                        f"(pip install matplotlib), so {path!r} was not written") from None
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot([it for _, it, _ in curve], [lr for _, _, lr in curve])
    ax.set_xlabel("iteration")
    ax.set_ylabel(name)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path)
    except (OSError, ValueError) as exc:
        raise UserError(f"--plot: cannot write {path!r}: {exc}") from None
    finally:
        plt.close(fig)


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = CliParser(
        prog="python -m ocr_ds.tools.lr_curve",
        description="Print the lr of every training iteration of a config.")
    parser.add_argument("config", help="config file (.py, .json, .yaml)")
    parser.add_argument("--iters-per-epoch", type=int, required=True, metavar="K",
                        help="training iterations per epoch (len(train_loader))")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of the lr values only")
    parser.add_argument("--momentum", action="store_true",
                        help="the momentum (momentum_config) instead of the lr")
    parser.add_argument("--plot", metavar="FILE", help="also draw the curve into FILE "
                        "(needs matplotlib)")
    parser.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override config keys, as for training")
    return parser.parse_args(None if argv is None else list(argv))


def main(argv: Iterable[str] | None = None) -> int:
    from ocr_ds.config import Config, parse_cfg_options

    args = parse_args(argv)
    if args.iters_per_epoch < 1:
        raise bad_value("--iters-per-epoch", args.iters_per_epoch, "a positive integer")
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    name = "momentum" if args.momentum else "lr"
    curve = (momentum_curve if args.momentum else lr_curve)(cfg, args.iters_per_epoch)
    if args.plot:
        plot(curve, args.plot, title=args.config, name=name)
    out = sys.stdout
    try:
        if args.json:
            json.dump([lr for _, _, lr in curve], out)
            out.write("\n")
        else:
            out.writelines(line + "\n" for line in text_lines(curve, name))
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has all it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
    if args.plot:
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)

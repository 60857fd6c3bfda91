"""Evaluate predictions saved by ``test.py --out`` against a config's test set, without a model
(mmdet's ``tools/analysis_tools/eval_metric.py``, on ocr_ds's JSON predictions)::

    python ocr_ds/test.py CONFIG CHECKPOINT --format-only --out preds.json
    python -m ocr_ds.tools.eval_results CONFIG preds.json --eval hmean-iou

Prints the metrics as ``test.py --eval`` does (the same dict, the same numbers).
"""
from __future__ import annotations

import json
from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli


def main(argv: Sequence[str] | None = None) -> int:
    from ocr_ds.config import Config, parse_cfg_options
    from ocr_ds.config.check import check_config, raise_problems
    from ocr_ds.fileio import read_text
    from ocr_ds.test import build_test_dataset, eval_kwargs

    p = CliParser(prog="python -m ocr_ds.tools.eval_results", description=__doc__.splitlines()[0])
    p.add_argument("config", help="the config whose data.test the predictions are of")
    p.add_argument("results", help="predictions JSON written by test.py --out")
    p.add_argument("--eval", nargs="+", required=True, metavar="METRIC",
                   help="metrics: hmean-iou (detection), acc (recognition), ...")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE")
    p.add_argument("--eval-options", nargs="+", default=[], metavar="KEY=VALUE")
    args = p.parse_args(argv)
    try:
        args.eval_kwargs = parse_cfg_options(args.eval_options)
    except UserError as exc:
        raise UserError(str(exc).replace("--cfg-options", "--eval-options")) from None
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(parse_cfg_options(args.cfg_options))
    raise_problems(check_config(cfg, mode="test", eval_metrics=args.eval, build=False))
    try:
        results = json.loads(read_text(args.results, "JSON file"))
    except FileNotFoundError:
        raise UserError(f"results: {args.results!r} does not exist") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{args.results}: not valid JSON ({exc.msg} at line {exc.lineno}); "
                        "expected the file test.py --out wrote") from None
    dataset = build_test_dataset(cfg["data"]["test"])
    if not isinstance(results, list) or len(results) != len(dataset):
        got = f"{len(results)} predictions" if isinstance(results, list) else \
            type(results).__name__
        raise UserError(f"{args.results}: expected a list of {len(dataset)} predictions, one "
                        f"per image of data.test (got {got})")
    metrics = dataset.evaluate(results, **eval_kwargs(cfg, args))
    from ocr_ds.engine.evaluate import plain_metrics

    print(plain_metrics(metrics), flush=True)
    return 0


if __name__ == "__main__":
    run_cli(main)

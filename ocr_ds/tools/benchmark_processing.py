"""Time the training data pipeline, or fill the memcached image cache (MMOCR 0.6.3's
``tools/benchmark_processing.py``)::

    python -m ocr_ds.tools.benchmark_processing CONFIG [--cfg-options K=V ...] [--mc-config MC]
    python -m cProfile -o program.prof -m ocr_ds.tools.benchmark_processing CONFIG

One pass over ``data.train`` (its ``synth_data`` generated first when the config has one)
through the training DataLoader with the config's ``samples_per_gpu``, ``workers_per_gpu`` and
other loader settings, one process; a progress bar of the samples after the first 5 batches
(the workers' start-up left out, as MMOCR does), then the samples per second. With
``--mc-config`` (as ``train.py``'s) every training image is read through that memcached cache,
so the pass fills it before a run. Set ``data.workers_per_gpu=0`` to profile the transforms in
this process.
"""
from __future__ import annotations

import logging
import sys
import time
from typing import Sequence

from ocr_ds.errors import CliParser, UserError, run_cli

WARMUP = 5


def main(argv: Sequence[str] | None = None) -> int:
    from ocr_ds.engine.data import build_loader, loader_settings, process_settings
    from ocr_ds.engine.preflight import check_image_dirs
    from ocr_ds.engine.progress import ProgressBar
    from ocr_ds.engine.synth import ensure_synth_data
    from ocr_ds.engine.train import build_datasets
    from ocr_ds.train import load_config

    p = CliParser(prog="python -m ocr_ds.tools.benchmark_processing",
                  description="Benchmark data loading")
    p.add_argument("config", help="train config file path")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="override config settings, as for training")
    p.add_argument("--mc-config", help="config file with mc_file_client_args: read the "
                   "training images through memcached (filling the cache)")
    args = p.parse_args(argv)
    cfg = load_config(args)  # train.py's: --cfg-options, then --mc-config
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ensure_synth_data(cfg.get("synth_data"), logging.getLogger("ocr_ds"))
    dataset, _ = build_datasets(cfg, validate=False)
    check_image_dirs(dataset, "data.train")
    settings = loader_settings(cfg["data"], "train")
    loader = build_loader(dataset, settings, rank=0, world_size=1, seed=0, pad=False,
                          mp_start_method=process_settings(cfg)["mp_start_method"])
    size = loader.batch_size
    if len(dataset) <= WARMUP * size:
        raise UserError(f"data.train: {len(dataset)} samples are no more than the {WARMUP} "
                        f"warm-up batches of {size}; nothing left to time")
    bar, left, start = None, len(dataset), 0.0
    for i, _ in enumerate(loader):
        count = min(size, left)
        left -= count
        if i == WARMUP - 1:
            bar, start = ProgressBar(left, unit="sample"), time.monotonic()
        elif bar is not None:
            bar.update(count)
    if bar is not None:
        bar.close()
        timed = len(dataset) - WARMUP * size
        rate = timed / max(time.monotonic() - start, 1e-9)
        print(f"{timed} samples after {WARMUP} warm-up batches of {size}: {rate:.1f} "
              f"samples/s ({settings['workers_per_gpu']} workers)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run_cli(main)

"""``ocr_ds/train.py`` with each rank's own val phase losses recorded (test_train_workflow): run
in train.py's place with its arguments; writes ``<work dir>/val_losses.<rank>.json``, per val
phase ``{epoch, iter, samples, local, mean}``: this rank's sample-weighted means and what the
logger got after the average over ranks."""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

records: list[dict] = []
rank = [0]


def install() -> None:
    from ocr_ds.engine.hooks import logger

    original = logger.val_loss_means

    def val_loss_means(runner):
        local = {k: float(total) / seen for k, (total, seen) in runner.val_losses.items()}
        samples = next(iter(runner.val_losses.values()))[1]
        mean = original(runner)
        rank[0] = runner.rank
        records.append(dict(epoch=runner.epoch, iter=runner.iter, samples=samples, local=local,
                            mean=mean))
        return mean

    logger.val_loss_means = val_loss_means


def dump(work_dir: str) -> None:
    with open(os.path.join(work_dir, f"val_losses.{rank[0]}.json"), "w") as f:
        json.dump(records, f)


if __name__ == "__main__":
    import helpers

    helpers.train_with_probe(install, dump)

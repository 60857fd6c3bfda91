"""``ocr_ds/train.py`` with the optimizer's param groups recorded before every training step
(test_train_momentum): run in train.py's place with its arguments; writes
``<work dir>/momenta.json``, one ``{epoch, iter, optimizer, groups}`` per iteration, where
``groups`` holds each param group's ``momentum`` and ``betas`` (None where it has none) and
``optimizer`` is the class DeepSpeed steps with."""
from __future__ import annotations

import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

records: list[dict] = []


def install() -> None:
    from ocr_ds.engine.runner import Runner

    original = Runner.train_step

    def train_step(self, batch):
        opt = self.optimizer
        records.append(dict(epoch=self.epoch, iter=self.iter, optimizer=type(opt).__name__,
                            groups=[dict(momentum=g.get("momentum"),
                                         betas=list(g["betas"]) if "betas" in g else None)
                                    for g in opt.param_groups]))
        original(self, batch)

    Runner.train_step = train_step


def dump(work_dir: str) -> None:
    with open(os.path.join(work_dir, "momenta.json"), "w") as f:
        json.dump(records, f)


if __name__ == "__main__":
    import helpers

    helpers.train_with_probe(install, dump)

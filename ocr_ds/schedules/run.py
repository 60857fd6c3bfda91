"""How long a run is: ``(max_epochs, max_iters)`` from ``runner`` / ``total_epochs``.

Shared by the engine and the ``lr_curve`` tool; torch-free so the tool starts fast.
"""
from __future__ import annotations

from typing import Any, Mapping

from ocr_ds.errors import UserError, bad_value

RUNNERS = ("EpochBasedRunner", "IterBasedRunner")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def run_length(cfg: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """``(max_epochs, max_iters)`` of the config; exactly one is None.

    ``runner`` wins; without it ``total_epochs`` makes an EpochBasedRunner (as MMOCR does). When
    both are given they must agree, as MMOCR asserts: an IterBasedRunner then has no
    ``max_epochs`` to agree with.
    """
    runner = cfg.get("runner")
    total = cfg.get("total_epochs")
    if total is not None and not _positive_int(total):
        raise bad_value("total_epochs", total, "a positive integer")
    if runner is None:
        if total is None:
            raise UserError("runner: expected runner=dict(type='EpochBasedRunner', max_epochs=N)"
                            ", runner=dict(type='IterBasedRunner', max_iters=N) or "
                            "total_epochs=N (got neither runner nor total_epochs)")
        return total, None
    if not isinstance(runner, Mapping):
        raise bad_value("runner", runner, "a dict")
    kind = runner.get("type")
    if kind not in RUNNERS:
        raise bad_value("runner.type", kind, "one of " + ", ".join(map(repr, RUNNERS)))
    if kind == "EpochBasedRunner":
        epochs = runner.get("max_epochs")
        if not _positive_int(epochs):
            raise bad_value("runner.max_epochs", epochs, "a positive integer")
        if total is not None and total != epochs:
            raise UserError(f"total_epochs: expected the same as runner.max_epochs ({epochs}) "
                            f"(got {total})")
        return epochs, None
    iters = runner.get("max_iters")
    if not _positive_int(iters):
        raise bad_value("runner.max_iters", iters, "a positive integer")
    if total is not None:
        raise UserError(f"total_epochs: expected no total_epochs with runner type "
                        f"'IterBasedRunner' (max_iters={iters}) (got {total})")
    return None, iters

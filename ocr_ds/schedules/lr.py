"""The learning rate of every training iteration, from ``lr_config``, as mmcv 1.x computes it.

DeepSpeed has no poly/step/epoch schedules, so the engine writes ``param_group['lr']`` itself
before each iteration from :meth:`LrSchedule.lr`. That is a pure function of
``(base_lr, epoch, global_iter)``, equal to what mmcv's stateful ``LrUpdaterHook`` leaves in the
param group for that iteration (checked against mmcv 1.7.2's own hooks over whole runs, resumed
ones too, in ``tests/schedules/test_lr_parity.py``)::

    schedule = LrSchedule.from_config(cfg.get("lr_config"), max_epochs=1200,
                                      max_iters=1200 * len(loader), iters_per_epoch=len(loader))
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", schedule.initial_lr(group["lr"]))  # saved: resume keeps it
        group["lr"] = schedule.lr(group["initial_lr"], epoch, global_iter)

How mmcv's hook behaves, and so this module:

- ``by_epoch=True``: the regular lr is computed once per epoch from the 0-based epoch index and
  ``max_epochs`` (``before_train_epoch``). ``by_epoch=False``: from the global iteration and
  ``max_iters``, before every iteration.
- Warmup multiplies the regular lr ``r`` of the current epoch/iteration while
  ``global_iter < W`` (``W = warmup_iters``, times ``iters_per_epoch`` with
  ``warmup_by_epoch``): constant ``r*ratio``, linear ``r*(1 - (1 - i/W)*(1 - ratio))``, exp
  ``r*ratio**(1 - i/W)``. From ``W`` on, the regular lr (mmcv restores it at ``i == W``).
- ``cyclic`` and ``OneCycle`` are iteration-based (their ``by_epoch`` defaults to False; True is
  an error, as in mmcv). ``OneCycle`` ignores ``base_lr`` (see :meth:`LrSchedule.initial_lr`).

Iteration-based runs (``IterBasedRunner``, ``max_epochs=None``): there ``by_epoch`` defaults to
False (mmcv's ``IterBasedRunner.register_training_hooks`` does
``lr_config.setdefault('by_epoch', False)``). mmcv's IterBasedRunner never calls
``before_train_epoch``, so there an explicit ``by_epoch=True`` silently keeps the lr at its base
for the whole run and its warmup does nothing. That is never what a config means, so it is a
:class:`~ocr_ds.errors.UserError` here, except for ``policy='fixed'`` without warmup, whose lr
is the base anyway. ``warmup_by_epoch=True`` (which crashes mmcv's
IterBasedRunner) counts warmup in passes over the loader: ``W = warmup_iters * iters_per_epoch``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ocr_ds.errors import bad_value

from . import policies as p
from ._common import WARMUPS  # noqa: F401  (re-exported: ocr_ds.schedules.lr.WARMUPS)
from ._common import (canonical_name, check_position, check_run, read_by_epoch, read_policy,
                      read_warmup, refuse_by_epoch_in_iteration_run, warmup_factor)
from ._common import span as run_span
from ._args import is_int
from .cyclic import Cyclic, OneCycle
from .policies import Fixed

Policy = p.Fixed | p.Step | p.Exp | p.Poly | p.Inv | p.CosineAnnealing | p.FlatCosineAnnealing \
    | p.CosineRestart | p.LinearAnnealing | Cyclic | OneCycle

#: mmcv's hook-name stems (``<stem>LrUpdaterHook``), after title-casing a lower-case policy.
POLICIES: dict[str, type] = {
    "Fixed": p.Fixed, "Step": p.Step, "Exp": p.Exp, "Poly": p.Poly, "Inv": p.Inv,
    "CosineAnnealing": p.CosineAnnealing, "FlatCosineAnnealing": p.FlatCosineAnnealing,
    "CosineRestart": p.CosineRestart, "LinearAnnealing": p.LinearAnnealing,
    "Cyclic": Cyclic, "OneCycle": OneCycle,
}

#: The policy names as users write them in configs (any spelling that maps to POLICIES works).
POLICY_NAMES: tuple[str, ...] = (
    "fixed", "step", "exp", "poly", "inv", "CosineAnnealing", "FlatCosineAnnealing",
    "CosineRestart", "LinearAnnealing", "cyclic", "OneCycle",
)


def canonical_policy(name: str) -> str | None:
    """mmcv's lookup: a policy written all in lower case is title-cased (``poly`` -> ``Poly``),
    anything else is taken as written. Returns the POLICIES key, or None when unknown."""
    return canonical_name(name, POLICIES)


@dataclass(frozen=True)
class LrSchedule:
    """An lr schedule: a regular policy plus optional warmup, evaluated per iteration.

    Build it with :meth:`from_config`; the fields are its resolved settings.
    """

    policy: Policy = field(default_factory=Fixed)
    """The regular (warmup-free) policy: ``policy(base_lr, progress) -> lr``."""
    by_epoch: bool = False
    """Whether the regular lr follows the 0-based epoch index (else the global iteration)."""
    warmup: str | None = None
    """None, 'constant', 'linear' or 'exp'."""
    warmup_iters: int = 0
    """W, the warmup length in iterations (already multiplied out for ``warmup_by_epoch``)."""
    warmup_ratio: float = 0.1
    """The multiplier of the regular lr at iteration 0 of the warmup."""

    @classmethod
    def from_config(cls, lr_config: Mapping[str, Any] | None, *, max_epochs: int | None,
                    max_iters: int | None, iters_per_epoch: int,
                    key: str = "lr_config") -> "LrSchedule":
        """Build the schedule of ``lr_config`` (mmcv's keys) for a run of the given length.

        Args:
            lr_config: ``dict(policy=..., by_epoch=..., warmup=..., warmup_iters=...,
                warmup_ratio=..., warmup_by_epoch=..., **policy_args)``; None means a fixed lr
                (mmcv then registers no lr hook).
            max_epochs: epochs of an epoch-based run; None for an iteration-based run.
            max_iters: training iterations in the whole run (``max_epochs * iters_per_epoch``
                for an epoch-based run, as mmcv's EpochBasedRunner sets it); None for an
                epoch-based run checked before its data gives the epoch's length: what depends
                on the count (cyclic's cycles, OneCycle's phases) is then left unchecked.
            iters_per_epoch: iterations in one epoch (``len(train_loader)``).
            key: the key path of ``lr_config`` in the config, for error messages.
                Defaults to "lr_config".

        Raises:
            UserError: anything wrong in ``lr_config``, named by its key path.
        """
        check_run(max_epochs, max_iters)
        if not (is_int(iters_per_epoch) and iters_per_epoch > 0):
            raise ValueError(f"iters_per_epoch must be a positive integer (got {iters_per_epoch!r})")
        if lr_config is None:
            return cls()
        if not isinstance(lr_config, Mapping):
            raise bad_value(key, lr_config, "a dict (or None for a fixed lr)")

        name, policy_cls, args = read_policy(lr_config, key, POLICIES, POLICY_NAMES)
        # mmcv's IterBasedRunner.register_training_hooks: lr_config.setdefault('by_epoch', False)
        by_epoch = read_by_epoch(args, name, policy_cls, default=max_epochs is not None)
        warmup, warmup_iters, warmup_ratio = read_warmup(args, 0.1)
        warmup_by_epoch = args.boolean("warmup_by_epoch", False)
        if by_epoch and max_epochs is None and not (policy_cls is Fixed and warmup is None):
            refuse_by_epoch_in_iteration_run(args, "lr")

        policy = policy_cls.build(args, run_span(by_epoch, max_epochs, max_iters))
        args.finish()
        return cls(policy=policy, by_epoch=by_epoch, warmup=warmup,
                   warmup_iters=warmup_iters * iters_per_epoch if warmup_by_epoch
                   else warmup_iters,
                   warmup_ratio=warmup_ratio)

    def initial_lr(self, group_lr: float) -> float:
        """The base lr mmcv stores as a param group's ``initial_lr`` when the run starts.

        That is the group's configured lr, except for ``OneCycle``, which overrides it with
        ``max_lr / div_factor``. Store it once and pass it to :meth:`lr` as ``base_lr``; mmcv keeps
        ``initial_lr`` in the optimizer state, so a resumed run keeps the original base.
        """
        if isinstance(self.policy, OneCycle):
            return self.policy.base_lr
        return group_lr

    def regular_lr(self, base_lr: float, epoch: int, global_iter: int) -> float:
        """The lr of the policy alone, without warmup (mmcv's ``regular_lr``).

        ``OneCycle`` ignores ``base_lr`` and uses ``max_lr / div_factor``.
        """
        check_position(epoch, global_iter)
        return self.policy(base_lr, epoch if self.by_epoch else global_iter)

    def lr(self, base_lr: float, epoch: int, global_iter: int) -> float:
        """The lr in effect for the training iteration ``global_iter`` (0-based, counted over the
        whole run), which lies in 0-based ``epoch``. Pure: same inputs, same output.

        ``base_lr`` is the param group's ``initial_lr`` (see :meth:`initial_lr`); ``OneCycle``
        ignores it and uses ``max_lr / div_factor``. ``epoch`` matters only when
        :attr:`by_epoch`; for an iteration-based run pass ``global_iter // iters_per_epoch``
        (what mmcv's IterBasedRunner reports as the epoch) or anything else.
        """
        regular = self.regular_lr(base_lr, epoch, global_iter)
        if self.warmup is None or global_iter >= self.warmup_iters:
            return regular
        return self.warmup_lr(regular, global_iter)

    def warmup_lr(self, regular_lr: float, global_iter: int) -> float:
        """The warmed-up lr at ``global_iter`` (< :attr:`warmup_iters`) for ``regular_lr``."""
        if self.warmup is None:
            return regular_lr
        return regular_lr * warmup_factor(self.warmup, global_iter, self.warmup_iters,
                                          self.warmup_ratio)

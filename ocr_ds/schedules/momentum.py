"""The momentum of every training iteration, from ``momentum_config``, as mmcv 1.x computes it.

MMOCR's ``train_detector`` hands ``cfg.get('momentum_config')`` to mmcv's runner, which builds
``<Policy>MomentumUpdaterHook`` (a policy written all in lower case is title-cased) with the
other keys as arguments. The engine writes the momentum into every param group before each
iteration from :meth:`MomentumSchedule.momentum`, a pure function of
``(base_momentum, epoch, global_iter)`` equal to what mmcv's stateful hook leaves in the param
group (checked against mmcv 1.7.2's own hooks in ``tests/schedules/test_momentum_parity.py``)::

    schedule = MomentumSchedule.from_config(cfg.get("momentum_config"), max_epochs=12,
                                            max_iters=12 * len(loader))
    for group in optimizer.param_groups:  # SGD's group['momentum'], else Adam's betas[0]
        base = schedule.initial_momentum(group.get("initial_momentum", group["momentum"]))
        group["momentum"] = schedule.momentum(base, epoch, global_iter)

How mmcv's momentum hooks behave, and so this module:

- policies ``step`` (gamma 0.5, ``min_momentum``), ``CosineAnnealing`` and ``LinearAnnealing``
  (exactly one of ``min_momentum`` / ``min_momentum_ratio``), ``cyclic`` (``target_ratio``
  default ``(0.85/0.95, 1)``) -- the lr policies' arithmetic, shared with them -- and
  ``OneCycle`` (:class:`~ocr_ds.schedules.cyclic.OneCycleMomentum`: ``base_momentum``,
  ``max_momentum``, ``pct_start``, ``anneal_strategy``, ``three_phase``), which ignores the
  optimizer's momentum. There is no ``fixed``, ``poly``, ``exp``, ... for momentum in mmcv.
- ``by_epoch`` (default True; ``cyclic`` and ``OneCycle`` are iteration-only) as for the lr.
- Warmup ``constant`` / ``linear`` / ``exp`` over ``warmup_iters`` with ``warmup_ratio``
  (default 0.9) DIVIDES the regular momentum by the lr's warmup factor (it starts above the
  regular momentum); no ``warmup_by_epoch`` (mmcv's momentum hooks do not take it).
- The value goes to ``param_group['momentum']`` when the group has that key, else to
  ``betas[0]``; a group with neither fails in mmcv (KeyError), so ocr_ds refuses such an
  optimizer when it checks the config.

As for the lr, a ``by_epoch`` schedule in an iteration-based run (IterBasedRunner, which mmcv
never gives a ``before_train_epoch``, so the momentum would silently never change) is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ocr_ds.errors import bad_value

from . import policies as p
from ._common import (check_position, check_run, read_by_epoch, read_policy, read_warmup,
                      refuse_by_epoch_in_iteration_run, warmup_factor)
from ._common import span as run_span
from .cyclic import Cyclic, OneCycleMomentum
from .policies import MOMENTUM

MomentumPolicy = p.Step | p.CosineAnnealing | p.LinearAnnealing | Cyclic | OneCycleMomentum

#: mmcv's hook-name stems (``<stem>MomentumUpdaterHook``), after title-casing.
MOMENTUM_POLICIES: dict[str, type] = {
    "Step": p.Step, "CosineAnnealing": p.CosineAnnealing,
    "LinearAnnealing": p.LinearAnnealing, "Cyclic": Cyclic, "OneCycle": OneCycleMomentum,
}

#: The policy names as users write them in configs.
MOMENTUM_POLICY_NAMES: tuple[str, ...] = (
    "step", "CosineAnnealing", "LinearAnnealing", "cyclic", "OneCycle")


@dataclass(frozen=True)
class MomentumSchedule:
    """A momentum schedule: a regular policy plus optional warmup, evaluated per iteration.

    Build it with :meth:`from_config`; the fields are its resolved settings.
    """

    policy: MomentumPolicy
    """The regular (warmup-free) policy: ``policy(base_momentum, progress) -> momentum``."""
    by_epoch: bool = True
    """Whether the regular momentum follows the 0-based epoch index (else the global iteration)."""
    warmup: str | None = None
    """None, 'constant', 'linear' or 'exp'."""
    warmup_iters: int = 0
    """W, the warmup length in iterations."""
    warmup_ratio: float = 0.9
    """The divisor of the regular momentum at iteration 0 of the warmup."""

    @classmethod
    def from_config(cls, momentum_config: Mapping[str, Any] | None, *, max_epochs: int | None,
                    max_iters: int | None,
                    key: str = "momentum_config") -> "MomentumSchedule | None":
        """The schedule of ``momentum_config`` (mmcv's keys) for a run of the given length, or
        None when it is None (mmcv then registers no momentum hook: the momentum stays as the
        optimizer has it).

        Args:
            momentum_config: ``dict(policy=..., by_epoch=..., warmup=..., warmup_iters=...,
                warmup_ratio=..., **policy_args)``.
            max_epochs: epochs of an epoch-based run; None for an iteration-based run.
            max_iters: training iterations in the whole run; None for an epoch-based run checked
                before its data gives the epoch's length (as for :class:`LrSchedule`).
            key: the key path of ``momentum_config`` in the config, for error messages.

        Raises:
            UserError: anything wrong in ``momentum_config``, named by its key path.
        """
        check_run(max_epochs, max_iters)
        if momentum_config is None:
            return None
        if not isinstance(momentum_config, Mapping):
            raise bad_value(key, momentum_config, "a dict (or None for no momentum schedule)")
        name, policy_cls, args = read_policy(momentum_config, key, MOMENTUM_POLICIES,
                                             MOMENTUM_POLICY_NAMES)
        by_epoch = read_by_epoch(args, name, policy_cls)
        warmup, warmup_iters, warmup_ratio = read_warmup(args, 0.9)
        if by_epoch and max_epochs is None:
            refuse_by_epoch_in_iteration_run(args, "momentum")
        policy = policy_cls.build(args, run_span(by_epoch, max_epochs, max_iters), MOMENTUM)
        args.finish()
        return cls(policy=policy, by_epoch=by_epoch, warmup=warmup, warmup_iters=warmup_iters,
                   warmup_ratio=warmup_ratio)

    @property
    def one_cycle(self) -> bool:
        """OneCycle: the optimizer's momentum is replaced, not scheduled (see mmcv)."""
        return isinstance(self.policy, OneCycleMomentum)

    def initial_momentum(self, group_momentum: float) -> float:
        """The base momentum of a param group: its momentum (or ``betas[0]``) when the run
        starts, which mmcv keeps as the group's ``initial_momentum`` (a resumed run keeps the
        original). ``OneCycle`` sets every group to ``max_momentum`` instead."""
        if isinstance(self.policy, OneCycleMomentum):
            return self.policy.max_momentum
        return group_momentum

    def regular_momentum(self, base: float, epoch: int, global_iter: int) -> float:
        """The momentum of the policy alone, without warmup (mmcv's ``regular_momentum``)."""
        check_position(epoch, global_iter)
        return self.policy(base, epoch if self.by_epoch else global_iter)

    def momentum(self, base: float, epoch: int, global_iter: int) -> float:
        """The momentum in effect for the training iteration ``global_iter`` (0-based, over the
        whole run) in 0-based ``epoch``; ``base`` from :meth:`initial_momentum`. Pure."""
        regular = self.regular_momentum(base, epoch, global_iter)
        if self.warmup is None or global_iter >= self.warmup_iters:
            return regular
        return regular / warmup_factor(self.warmup, global_iter, self.warmup_iters,
                                       self.warmup_ratio)

    def peak(self, base: float, max_iters: int, iters_per_epoch: int) -> tuple[float, int]:
        """``(the largest momentum of the run, the first iteration it is in effect)``, from
        every iteration where it can change: each one when the schedule follows iterations,
        else the warmup's and the first of each epoch."""
        if self.by_epoch:
            warm = range(min(self.warmup_iters if self.warmup else 0, max_iters))
            iters = sorted({*warm, *range(0, max_iters, iters_per_epoch),
                            *([self.warmup_iters] if self.warmup_iters < max_iters else [])})
        else:
            iters = range(max_iters)
        best, first = float("-inf"), 0
        for it in iters:
            value = self.momentum(base, it // iters_per_epoch, it)
            if value > best:
                best, first = value, it
        return best, first


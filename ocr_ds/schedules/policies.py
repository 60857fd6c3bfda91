"""The regular (warmup-free) lr policies of mmcv 1.x's ``LrUpdaterHook`` family, as pure functions.

Each policy is a small frozen dataclass, built once from ``lr_config`` by ``build`` and then
called as ``policy(base_lr, progress) -> lr``. ``progress`` is the 0-based epoch index when the
schedule is ``by_epoch``, else the global iteration; whatever a policy needs about the run's
length (``max_epochs`` or ``max_iters``) it takes at build time from :class:`Span`. The
arithmetic follows mmcv's ``get_lr`` expression by expression, so the floats are bit-identical
(``tests/schedules/test_lr_parity.py`` checks whole runs against mmcv 1.7.2's own hooks).

This module holds the policies that work by epoch or by iteration; the iteration-only ones
(``cyclic``, ``OneCycle``) are in :mod:`ocr_ds.schedules.cyclic`, and the name table in
:mod:`ocr_ds.schedules.lr`. Where mmcv would fail in the middle of a run (CosineRestart past the
end of its periods) ``build`` refuses the config up front instead.

mmcv's momentum hooks (``momentum_config``) are its lr hooks' arithmetic with other argument
names and defaults (``min_momentum``, Step's ``gamma`` 0.5, cyclic's ``target_ratio``), so
``step``, ``CosineAnnealing``, ``LinearAnnealing`` and ``cyclic`` serve both: ``build`` reads
the argument names and defaults of the :class:`Quantity` it is given (:data:`LR` or
:data:`MOMENTUM`), and the fields ``min_lr`` / ``min_lr_ratio`` then hold ``min_momentum`` /
``min_momentum_ratio``. The momentum schedule is in :mod:`ocr_ds.schedules.momentum`.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import cos, pi
from typing import ClassVar

from ocr_ds.errors import UserError, bad_value

from ._args import ArgReader, is_number, min_target


def annealing_cos(start: float, end: float, factor: float, weight: float = 1.0) -> float:
    """Cosine from ``weight*start + (1-weight)*end`` (factor 0) down to ``end`` (factor 1)."""
    cos_out = cos(pi * factor) + 1
    return end + 0.5 * weight * (start - end) * cos_out


def annealing_linear(start: float, end: float, factor: float) -> float:
    """Straight line from ``start`` (factor 0) to ``end`` (factor 1)."""
    return start + (end - start) * factor


ANNEAL = {"cos": annealing_cos, "linear": annealing_linear}


@dataclass(frozen=True)
class Quantity:
    """What a schedule drives, as mmcv's hook family for it names and defaults the arguments."""

    name: str
    """``lr`` or ``momentum``: the floor is ``min_<name>`` / ``min_<name>_ratio``."""
    step_gamma: float
    """Step's default ``gamma``."""
    cyclic_target_ratio: tuple[float, float]
    """cyclic's default ``target_ratio``."""


#: mmcv's ``*LrUpdaterHook`` arguments.
LR = Quantity("lr", 0.1, (10, 1e-4))
#: mmcv's ``*MomentumUpdaterHook`` arguments.
MOMENTUM = Quantity("momentum", 0.5, (0.85 / 0.95, 1.0))


@dataclass(frozen=True)
class Span:
    """What a policy may need to know about the run, fixed before training starts."""

    by_epoch: bool
    """Whether progress counts epochs (else global iterations)."""
    max_progress: int
    """``max_epochs`` when ``by_epoch``, else ``max_iters``."""
    max_iters: int
    """Training iterations in the whole run (``max_epochs * iters_per_epoch`` for epoch runs)."""
    known: bool = True
    """False: ``max_iters`` is a stand-in (an epoch-based run checked before its data gives the
    epoch's length); checks that need the real count are left to the build that has it."""


def _target(base_lr: float, min_lr: float | None, min_lr_ratio: float | None) -> float:
    # mmcv: the ratio wins when given; the builders guarantee exactly one is set
    return base_lr * min_lr_ratio if min_lr_ratio is not None else min_lr  # type: ignore[return-value]


@dataclass(frozen=True)
class Fixed:
    """``lr = base``."""

    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        return base_lr

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Fixed":
        return cls()


@dataclass(frozen=True)
class Step:
    """``base * gamma**k``; k = ``p // step`` (int step) or the milestones passed (list); then
    clipped below at ``min_lr`` when given."""

    step: int | tuple[int, ...]
    gamma: float = 0.1
    min_lr: float | None = None
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        if isinstance(self.step, int):
            exp = progress // self.step
        else:
            exp = len(self.step)
            for i, s in enumerate(self.step):
                if progress < s:
                    exp = i
                    break
        lr = base_lr * (self.gamma**exp)
        if self.min_lr is not None:
            lr = max(lr, self.min_lr)
        return lr

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Step":
        step = args.raw("step")
        path = args.path("step")
        if isinstance(step, (list, tuple)):
            if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in step):
                raise bad_value(path, step, "a positive integer or a list of positive integers")
            # mmcv does not sort; a decreasing list is always a typo, so say so instead
            if any(b < a for a, b in zip(step, step[1:])):
                raise bad_value(path, step, "milestones in increasing order")
            step = tuple(step)
        elif not (isinstance(step, int) and not isinstance(step, bool) and step > 0):
            raise bad_value(path, step, "a positive integer or a list of positive integers")
        return cls(step=step, gamma=args.number("gamma", q.step_gamma),
                   min_lr=args.number(f"min_{q.name}", None))


@dataclass(frozen=True)
class Exp:
    """``base * gamma**p``."""

    gamma: float
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        return base_lr * self.gamma**progress

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Exp":
        return cls(gamma=args.number("gamma"))


@dataclass(frozen=True)
class Poly:
    """``(base - min_lr) * (1 - p/P)**power + min_lr``."""

    max_progress: int
    power: float = 1.0
    min_lr: float = 0.0
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        coeff = (1 - progress / self.max_progress) ** self.power
        return (base_lr - self.min_lr) * coeff + self.min_lr

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Poly":
        return cls(max_progress=span.max_progress, power=args.number("power", 1.0),
                   min_lr=args.number("min_lr", 0.0))


@dataclass(frozen=True)
class Inv:
    """``base * (1 + gamma*p)**(-power)``."""

    gamma: float
    power: float = 1.0
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        return base_lr * (1 + self.gamma * progress) ** (-self.power)

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Inv":
        return cls(gamma=args.number("gamma"), power=args.number("power", 1.0))


@dataclass(frozen=True)
class CosineAnnealing:
    """``annealing_cos(base, target, p/P)``; target = ``min_lr`` or ``base*min_lr_ratio``."""

    max_progress: int
    min_lr: float | None = None
    min_lr_ratio: float | None = None
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        target_lr = _target(base_lr, self.min_lr, self.min_lr_ratio)
        return annealing_cos(base_lr, target_lr, progress / self.max_progress)

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "CosineAnnealing":
        min_lr, ratio = min_target(args, "policy 'CosineAnnealing'", q.name)
        return cls(max_progress=span.max_progress, min_lr=min_lr, min_lr_ratio=ratio)


@dataclass(frozen=True)
class FlatCosineAnnealing:
    """``base`` until ``s = round(P*start_percent)``, then cosine from base to target over the
    remaining ``P - s``."""

    max_progress: int
    start_percent: float = 0.75
    min_lr: float | None = None
    min_lr_ratio: float | None = None
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        start = round(self.max_progress * self.start_percent)
        progress = progress - start
        max_progress = self.max_progress - start
        target_lr = _target(base_lr, self.min_lr, self.min_lr_ratio)
        if progress < 0:
            return base_lr
        return annealing_cos(base_lr, target_lr, progress / max_progress)

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "FlatCosineAnnealing":
        start_percent = args.raw("start_percent", 0.75)
        if not (isinstance(start_percent, float) and 0 <= start_percent <= 1):  # mmcv: not an int
            raise bad_value(args.path("start_percent"), start_percent, "a float in [0, 1]")
        min_lr, ratio = min_target(args, "policy 'FlatCosineAnnealing'", q.name)
        return cls(max_progress=span.max_progress, start_percent=start_percent, min_lr=min_lr,
                   min_lr_ratio=ratio)


@dataclass(frozen=True)
class CosineRestart:
    """Cosine annealing restarted at the end of each period, period ``i`` starting from
    ``restart_weights[i]*base + (1-restart_weights[i])*target``."""

    periods: tuple[int, ...]
    restart_weights: tuple[float, ...] = (1,)
    min_lr: float | None = None
    min_lr_ratio: float | None = None
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        target_lr = _target(base_lr, self.min_lr, self.min_lr_ratio)
        end = 0
        for idx, period in enumerate(self.periods):
            start, end = end, end + period
            if progress < end:
                break
        else:
            raise ValueError(f"progress {progress} is past the last CosineRestart period "
                             f"(periods {list(self.periods)})")
        alpha = min((progress - start) / period, 1)
        return annealing_cos(base_lr, target_lr, alpha, self.restart_weights[idx])

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "CosineRestart":
        periods = args.raw("periods")
        if not (isinstance(periods, (list, tuple)) and periods
                and all(isinstance(p, int) and not isinstance(p, bool) and p > 0
                        for p in periods)):
            raise bad_value(args.path("periods"), periods, "a non-empty list of positive integers")
        weights = args.raw("restart_weights", [1])
        if not (isinstance(weights, (list, tuple)) and all(map(is_number, weights))):
            raise bad_value(args.path("restart_weights"), weights, "a list of numbers")
        if len(weights) != len(periods):
            raise UserError(f"{args.path('restart_weights')}: expected one weight per period "
                            f"({len(periods)}) (got {len(weights)}: {list(weights)!r})")
        # mmcv raises in the middle of training once progress reaches sum(periods)
        unit = "epochs" if span.by_epoch else "iterations"
        if (span.by_epoch or span.known) and sum(periods) < span.max_progress:
            raise UserError(f"{args.path('periods')}: the periods must cover the whole run "
                            f"({span.max_progress} {unit}) (got {list(periods)}, "
                            f"sum {sum(periods)})")
        min_lr, ratio = min_target(args, "policy 'CosineRestart'", q.name)
        # cumulative sums are recomputed per call: periods are few, and the sum is exact in ints
        return cls(periods=tuple(periods), restart_weights=tuple(weights), min_lr=min_lr,
                   min_lr_ratio=ratio)


@dataclass(frozen=True)
class LinearAnnealing:
    """``base + (target - base) * p/P``."""

    max_progress: int
    min_lr: float | None = None
    min_lr_ratio: float | None = None
    iteration_only: ClassVar[bool] = False

    def __call__(self, base_lr: float, progress: int) -> float:
        target_lr = _target(base_lr, self.min_lr, self.min_lr_ratio)
        return annealing_linear(base_lr, target_lr, progress / self.max_progress)

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "LinearAnnealing":
        min_lr, ratio = min_target(args, "policy 'LinearAnnealing'", q.name)
        return cls(max_progress=span.max_progress, min_lr=min_lr, min_lr_ratio=ratio)

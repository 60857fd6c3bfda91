"""mmcv 1.x's iteration-only policies, ``cyclic`` and ``OneCycle``, as pure functions.

Same shape as :mod:`ocr_ds.schedules.policies`: a frozen dataclass built from ``lr_config``,
called as ``policy(base_lr, global_iter) -> lr``, with mmcv's arithmetic kept expression by
expression. Where mmcv would fail in the middle of a run (more cycles than iterations; OneCycle
dividing by zero when ``pct_start*total_steps == 1``) ``build`` refuses the config up front.
:class:`Cyclic` also serves ``momentum_config`` (other default ``target_ratio``); mmcv's OneCycle
momentum has phases of its own, :class:`OneCycleMomentum`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar

from ocr_ds.errors import bad_value

from ._args import ArgReader, is_number
from .policies import ANNEAL, LR, Quantity, Span


def _anneal(args: ArgReader) -> str:
    return args.choice("anneal_strategy", "cos", ANNEAL)


def _pct_start(args: ArgReader, total_steps: int, name: str = "total_steps",
               known: bool = True) -> float:
    """OneCycle's ``pct_start``, in [0, 1] and (when ``total_steps`` is ``known``) not making
    the rising phase empty."""
    pct_start = args.raw("pct_start", 0.3)
    if not (isinstance(pct_start, float) and 0 <= pct_start <= 1):  # mmcv: an int is an error
        raise bad_value(args.path("pct_start"), pct_start, "a float in [0, 1]")
    if known and float(pct_start * total_steps) - 1 == 0:
        # the first phase would span zero iterations: mmcv divides by zero at iteration 0
        raise bad_value(args.path("pct_start"), pct_start,
                        f"a value with pct_start * {name} != 1 ({name}="
                        f"{total_steps}; the rising phase would be empty)")
    return pct_start


@dataclass(frozen=True)
class Cyclic:
    """mmcv's ``cyclic`` (iterations only): ``cyclic_times`` cycles of ``max_iters //
    cyclic_times`` iterations; each rises from ``base`` to ``base*target_ratio[0]`` over the first
    ``int(step_ratio_up * cycle)`` iterations, then falls to ``base*target_ratio[1]``; the
    amplitude of cycle ``c`` is scaled by ``gamma**c``."""

    max_iters: int
    target_ratio: tuple[float, float] = (10, 1e-4)
    cyclic_times: int = 1
    step_ratio_up: float = 0.4
    anneal_strategy: str = "cos"
    gamma: float = 1
    iteration_only: ClassVar[bool] = True

    @property
    def max_iter_per_phase(self) -> int:
        return self.max_iters // self.cyclic_times

    def _phases(self) -> list[tuple[int, int, float, float]]:
        per_cycle = self.max_iter_per_phase
        up = int(self.step_ratio_up * per_cycle)
        return [(0, up, 1, self.target_ratio[0]),
                (up, per_cycle, self.target_ratio[0], self.target_ratio[1])]

    def __call__(self, base_lr: float, progress: int) -> float:
        anneal = ANNEAL[self.anneal_strategy]
        curr_iter = progress % self.max_iter_per_phase
        scale = self.gamma ** (progress // self.max_iter_per_phase)
        for start_iter, end_iter, start_ratio, end_ratio in self._phases():
            if start_iter <= curr_iter < end_iter:
                # mmcv keys the cycle scaling on start_iter == 0, not on "rising phase": with
                # step_ratio_up=0 the falling phase starts at 0 and gets its END scaled. Kept.
                if start_iter == 0:
                    end_ratio = 1 - scale + end_ratio * scale
                else:
                    start_ratio = 1 - scale + start_ratio * scale
                return anneal(base_lr * start_ratio, base_lr * end_ratio,
                              (curr_iter - start_iter) / (end_iter - start_iter))
        return base_lr

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "Cyclic":
        path = args.path("target_ratio")
        ratio = args.raw("target_ratio", q.cyclic_target_ratio)
        # mmcv takes a float (not an int) or a tuple; configs in JSON/YAML can only write lists
        if isinstance(ratio, float):
            ratio = (ratio, ratio / 1e5)
        elif isinstance(ratio, (list, tuple)) and len(ratio) in (1, 2) \
                and all(map(is_number, ratio)):
            ratio = (ratio[0], ratio[0] / 1e5) if len(ratio) == 1 else tuple(ratio)
        else:
            raise bad_value(path, ratio, "a float or a list/tuple of one or two numbers")
        cyclic_times = args.integer("cyclic_times", 1, minimum=1)
        if span.known and cyclic_times > span.max_iters:
            raise bad_value(args.path("cyclic_times"), cyclic_times,
                            f"at most max_iters ({span.max_iters}) cycles")
        step_ratio_up = args.number("step_ratio_up", 0.4)
        if not 0 <= step_ratio_up < 1:
            raise bad_value(args.path("step_ratio_up"), step_ratio_up, "a number in [0, 1)")
        gamma = args.number("gamma", 1)
        if not 0 < gamma <= 1:
            raise bad_value(args.path("gamma"), gamma, "a number in (0, 1]")
        return cls(max_iters=span.max_iters, target_ratio=ratio, cyclic_times=cyclic_times,
                   step_ratio_up=step_ratio_up, anneal_strategy=_anneal(args), gamma=gamma)


@dataclass(frozen=True)
class OneCycle:
    """mmcv's ``OneCycle`` (iterations only). Its base lr is ``max_lr / div_factor`` whatever
    the optimizer's lr: it rises to ``max_lr`` at iteration ``pct_start*T - 1`` and anneals to
    ``base / final_div_factor`` at ``T - 1`` (``T = total_steps``, default ``max_iters``); with
    ``three_phase`` it comes back to base at ``2*pct_start*T - 2`` and then anneals.

    ``base_lr`` passed to ``__call__`` is ignored, as mmcv ignores the param group's lr. Only a
    single float ``max_lr`` is supported (mmcv also takes one per param group or optimizer)."""

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25
    final_div_factor: float = 1e4
    three_phase: bool = False
    iteration_only: ClassVar[bool] = True

    @property
    def base_lr(self) -> float:
        """The lr mmcv puts in each param group's ``initial_lr``: ``max_lr / div_factor``."""
        return self.max_lr / self.div_factor

    def _phases(self) -> list[tuple[float, float, float]]:
        # (end_iter, start multiplier, end multiplier) of base_lr, as mmcv builds them
        t, pct = self.total_steps, self.pct_start
        if self.three_phase:
            return [(float(pct * t) - 1, 1, self.div_factor),
                    (float(2 * pct * t) - 2, self.div_factor, 1),
                    (t - 1, 1, 1 / self.final_div_factor)]
        return [(float(pct * t) - 1, 1, self.div_factor),
                (t - 1, self.div_factor, 1 / self.final_div_factor)]

    def __call__(self, base_lr: float, progress: int) -> float:
        base_lr = self.base_lr
        anneal: Callable[[float, float, float], float] = ANNEAL[self.anneal_strategy]
        start_iter: float = 0
        for end_iter, start_lr, end_lr in self._phases():
            if progress <= end_iter:
                pct = (progress - start_iter) / (end_iter - start_iter)
                return anneal(base_lr * start_lr, base_lr * end_lr, pct)
            start_iter = end_iter
        return base_lr

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "OneCycle":
        max_lr = args.raw("max_lr")
        if not is_number(max_lr):
            raise bad_value(args.path("max_lr"), max_lr,
                            "a number (one max_lr for all param groups; per-group lists and "
                            "per-optimizer dicts are not supported)")
        total_steps = args.integer("total_steps", span.max_iters, minimum=1)
        if span.known and total_steps < span.max_iters:
            raise bad_value(args.path("total_steps"), total_steps,
                            f"at least max_iters ({span.max_iters})")
        pct_start = _pct_start(args, total_steps, known=span.known or args.given("total_steps"))
        div_factor = args.number("div_factor", 25)
        final_div_factor = args.number("final_div_factor", 1e4)
        for name, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if value == 0:
                raise bad_value(args.path(name), value, "a non-zero number")
        return cls(max_lr=max_lr, total_steps=total_steps, pct_start=pct_start,
                   anneal_strategy=_anneal(args), div_factor=div_factor,
                   final_div_factor=final_div_factor,
                   three_phase=args.boolean("three_phase", False))


@dataclass(frozen=True)
class OneCycleMomentum:
    """mmcv's ``OneCycle`` momentum (iterations only), cycled inversely to OneCycle's lr: from
    ``max_momentum`` down to ``base_momentum`` at iteration ``pct_start*T - 1`` and back up to
    ``max_momentum`` at ``T - 1`` (``T = max_iters``: mmcv's momentum hook has no
    ``total_steps``); with ``three_phase`` it is back at ``max_momentum`` at
    ``2*pct_start*T - 2`` and stays there.

    The optimizer's own momentum is ignored (``base`` passed to ``__call__`` too), as mmcv
    ignores it. Only single float ``base_momentum`` / ``max_momentum`` are supported (mmcv also
    takes one per param group or optimizer)."""

    max_iters: int
    base_momentum: float = 0.85
    max_momentum: float = 0.95
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    three_phase: bool = False
    iteration_only: ClassVar[bool] = True

    def _phases(self) -> list[tuple[float, float, float]]:
        # (end_iter, start momentum, end momentum), as mmcv builds them in before_run
        t, pct = self.max_iters, self.pct_start
        low, high = self.base_momentum, self.max_momentum
        if self.three_phase:
            return [(float(pct * t) - 1, high, low), (float(2 * pct * t) - 2, low, high),
                    (t - 1, high, high)]
        return [(float(pct * t) - 1, high, low), (t - 1, low, high)]

    def __call__(self, base: float, progress: int) -> float:
        anneal: Callable[[float, float, float], float] = ANNEAL[self.anneal_strategy]
        phases = self._phases()
        start_iter: float = 0
        momentum = 0.0
        for i, (end_iter, start, end) in enumerate(phases):
            # mmcv: the last phase takes whatever is left
            if progress <= end_iter or i == len(phases) - 1:
                momentum = anneal(start, end, (progress - start_iter) / (end_iter - start_iter))
                break
            start_iter = end_iter
        return momentum

    @classmethod
    def build(cls, args: ArgReader, span: Span, q: Quantity = LR) -> "OneCycleMomentum":
        values = {}
        for name, default in (("base_momentum", 0.85), ("max_momentum", 0.95)):
            value = args.raw(name, default)
            if not is_number(value):
                raise bad_value(args.path(name), value,
                                f"a number (one {name} for all param groups; per-group lists "
                                f"and per-optimizer dicts are not supported)")
            values[name] = value
        return cls(max_iters=span.max_iters, **values,
                   pct_start=_pct_start(args, span.max_iters, "max_iters", span.known),
                   anneal_strategy=_anneal(args), three_phase=args.boolean("three_phase", False))

"""What ``lr_config`` and ``momentum_config`` share: the policy name, ``by_epoch``, the warmup.

mmcv's two hook families read these the same way (a lower-case policy name is title-cased,
``by_epoch`` defaults to True but for the iteration-only policies, warmup ``constant`` /
``linear`` / ``exp`` over ``warmup_iters`` with ``warmup_ratio``); only the warmup's direction
differs: the lr is multiplied by :func:`warmup_factor`, the momentum divided by it.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ocr_ds.errors import UserError, bad_value, unknown_name

from ._args import ArgReader, is_int
from .policies import Span

WARMUPS = (None, "constant", "linear", "exp")


def canonical_name(name: str, table: Mapping[str, type]) -> str | None:
    """mmcv's lookup: a policy written all in lower case is title-cased (``poly`` -> ``Poly``),
    anything else is taken as written. Returns the ``table`` key, or None when unknown."""
    stem = name.title() if name == name.lower() else name
    return stem if stem in table else None


def read_policy(config: Mapping[str, Any], key: str, table: Mapping[str, type],
                names: Sequence[str]) -> tuple[str, type, ArgReader]:
    """``(name as written, policy class, reader of the other keys)`` of ``config``."""
    name = config.get("policy")
    if name is None:
        raise UserError(f"{key}.policy: required (one of: {', '.join(names)})")
    stem = canonical_name(name, table) if isinstance(name, str) else None
    if stem is None:
        raise unknown_name(f"{key}.policy", name, names)
    args = ArgReader({k: v for k, v in config.items() if k != "policy"}, key, f"policy {name!r}")
    return name, table[stem], args


def read_by_epoch(args: ArgReader, name: str, policy_cls: Any, default: bool = True) -> bool:
    """``by_epoch``: ``default`` (mmcv's hooks: True; ``lr_config`` in an IterBasedRunner, whose
    ``register_training_hooks`` sets it: False), False for the iteration-only policies (True is
    an error there, as mmcv asserts)."""
    by_epoch = args.boolean("by_epoch", default and not policy_cls.iteration_only)
    if by_epoch and policy_cls.iteration_only:
        raise bad_value(args.path("by_epoch"), by_epoch,
                        f"False: policy {name!r} is iteration-based only")
    return by_epoch


def refuse_by_epoch_in_iteration_run(args: ArgReader, what: str) -> None:
    """mmcv's IterBasedRunner never calls ``before_train_epoch``: a by_epoch schedule would keep
    ``what`` at its base for the whole run (and its warmup would do nothing)."""
    got = "True" if args.given("by_epoch") else "True, the default"
    raise UserError(f"{args.path('by_epoch')}: expected False for an iteration-based run "
                    f"(IterBasedRunner), where mmcv never updates a by_epoch {what} "
                    f"(got {got})")


def read_warmup(args: ArgReader, default_ratio: float) -> tuple[str | None, int, float]:
    """``(warmup, warmup_iters, warmup_ratio)``, checked as mmcv asserts them."""
    warmup = args.raw("warmup", None)
    if warmup not in WARMUPS:
        raise bad_value(args.path("warmup"), warmup, "one of " + ", ".join(map(repr, WARMUPS)))
    warmup_iters = args.integer("warmup_iters", 0, minimum=0)
    warmup_ratio = args.number("warmup_ratio", default_ratio)
    if warmup is not None:
        if warmup_iters == 0:
            raise bad_value(args.path("warmup_iters"), warmup_iters,
                            f"a positive integer when warmup is {warmup!r}")
        if not 0 < warmup_ratio <= 1:
            raise bad_value(args.path("warmup_ratio"), warmup_ratio, "a number in (0, 1]")
    return warmup, warmup_iters, warmup_ratio


def warmup_factor(warmup: str | None, global_iter: int, warmup_iters: int,
                  warmup_ratio: float) -> float:
    """mmcv's warmup term at ``global_iter`` (< ``warmup_iters``): constant ``ratio``, linear
    ``1 - (1 - i/W)*(1 - ratio)``, exp ``ratio**(1 - i/W)``; 1 without warmup. The lr hooks
    multiply the regular value by it, the momentum hooks divide by it (same floats as mmcv's
    expressions: ``lr * (1 - k)`` is ``lr * factor``, ``momentum / (1 - k)`` is
    ``momentum / factor``)."""
    if warmup == "constant":
        return warmup_ratio
    if warmup == "linear":
        k = (1 - global_iter / warmup_iters) * (1 - warmup_ratio)
        return 1 - k
    if warmup == "exp":
        return warmup_ratio ** (1 - global_iter / warmup_iters)
    return 1


def check_position(epoch: int, global_iter: int) -> None:
    """A negative position is a caller bug, not a user mistake."""
    if not (is_int(epoch) and epoch >= 0 and is_int(global_iter) and global_iter >= 0):
        raise ValueError(f"epoch and global_iter must be non-negative integers "
                         f"(got epoch={epoch!r}, global_iter={global_iter!r})")


def check_run(max_epochs: Any, max_iters: Any) -> None:
    """The run length the engine passes in (a caller bug when wrong): ``max_iters`` may be None
    (not known yet) only for an epoch-based run."""
    if not (is_int(max_iters) and max_iters > 0) and not (max_iters is None and max_epochs):
        raise ValueError(f"max_iters must be a positive integer, or None with max_epochs "
                         f"(got {max_iters!r})")
    if max_epochs is not None and not (is_int(max_epochs) and max_epochs > 0):
        raise ValueError(f"max_epochs must be None or a positive integer (got {max_epochs!r})")


def span(by_epoch: bool, max_epochs: int | None, max_iters: int | None) -> Span:
    """The :class:`Span` of a run; ``max_iters`` None (an epoch-based run checked before its
    data gives the epoch's length): one iteration per epoch stands in, and the policies skip
    what depends on the real count (checked again, with it, before the run writes anything)."""
    known = max_iters is not None
    iters: int = max_iters if known else max_epochs  # type: ignore[assignment]
    return Span(by_epoch=by_epoch,
                max_progress=max_epochs if by_epoch else iters,  # type: ignore[arg-type]
                max_iters=iters, known=known)

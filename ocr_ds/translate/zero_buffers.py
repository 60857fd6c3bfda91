"""ZeRO buffer sizes from the model, for every size the user left unset (pure: no deepspeed).

DeepSpeed 0.19.8's defaults (``deepspeed/runtime/zero/config.py``) are sized for
billion-parameter models: a 5e8-element gradient bucket, sub-groups of 1e9 elements, every
gathered ZeRO-3 parameter kept until its reuse in backward (``stage3_max_reuse_distance`` and
``stage3_max_live_parameters`` 1e9). For a recogniser of tens of millions of parameters the
bucket then holds the whole gradient (and ZeRO-3's reduce-scatter a second, concatenated copy
of it), the optimizer step a flat copy of the whole gradient partition, and the end of forward
the whole gathered model: ZeRO-3 used more real memory than no ZeRO at all
(benchmarks/zero_memory.py, issue 18).

Here every buffer is sized from the model instead, the way Hugging Face's ``"auto"`` sizes them
from the hidden size: gradient buckets and optimizer sub-groups at 1/8 of the parameter count,
what ZeRO-3 gathers ahead and keeps for reuse at 1/4 of it (at least the *largest layer*: the
parameters one module holds itself, gathered at once), the tensors kept whole on every rank
from the small tensors' total (5 %). Fractions rather than single layers: each collective is a
wait for the slowest rank, and with one-layer sizes those waits cost more step time than
DeepSpeed's defaults. The engine
builder measures the model (:class:`ModelFacts`); :func:`fill_zero_buffers` writes the sizes
into the ``zero_optimization`` section and says why in the notes. A value the user gave (also
under its other DeepSpeed spelling, e.g. ``prefetch_bucket_size``) is kept.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from typing import Mapping, MutableMapping, Sequence

#: Smallest bucket we choose (elements): below ~1 M elements (4 MB in fp32) a collective's fixed
#: cost starts to show, and the memory saved is negligible.
BUCKET_FLOOR = 2**20
#: Gradient buckets (and ZeRO-3's optimizer sub-groups) hold this fraction of the model.
BUCKET_SHARE = 8
#: ZeRO-3 keeps a gathered parameter that is used again within this fraction of the model's
#: elements, and gathers this much ahead in one collective.
REUSE_SHARE = 4
#: Tensors kept whole on every rank at ZeRO-3 may add up to this share of the model.
PERSIST_SHARE = 0.05


@dataclass(frozen=True)
class ModelFacts:
    """What the sizes are derived from: the trainable parameters of the model.

    A layer is what one module holds itself (``parameters(recurse=False)``): what ZeRO-3 gathers
    for one call of that module.
    """

    tensor_numels: tuple[int, ...]          #: element count of each trainable parameter
    largest_layer: int                      #: elements of the module holding the most itself
    largest_layer_name: str = ""            #: its dotted name, for the notes
    largest_tensor_name: str = ""           #: the largest parameter's dotted name

    @property
    def num_params(self) -> int:
        return sum(self.tensor_numels)

    @property
    def largest_tensor(self) -> int:
        return max(self.tensor_numels, default=0)

    def describe(self) -> str:
        def named(n: int, name: str) -> str:
            return f"{_count(n)} ({name})" if name else _count(n)

        return (f"{_count(self.num_params)} trainable parameters in {len(self.tensor_numels)} "
                f"tensors, largest tensor {named(self.largest_tensor, self.largest_tensor_name)}, "
                f"largest layer {named(self.largest_layer, self.largest_layer_name)}")


@dataclass(frozen=True)
class _Size:
    key: str                   #: the key written (DeepSpeed's documented spelling)
    other_name: str | None     #: the same field's other accepted spelling (pydantic alias)
    stages: tuple[int, ...]    #: the ZeRO stages that read it
    default: int               #: DeepSpeed 0.19.8's default


SIZES: tuple[_Size, ...] = (
    _Size("reduce_bucket_size", None, (1, 2, 3), int(5e8)),
    _Size("allgather_bucket_size", None, (1, 2), int(5e8)),
    _Size("sub_group_size", None, (3,), int(1e9)),
    _Size("stage3_prefetch_bucket_size", "prefetch_bucket_size", (3,), int(5e7)),
    _Size("stage3_max_live_parameters", "max_live_parameters", (3,), int(1e9)),
    _Size("stage3_max_reuse_distance", "max_reuse_distance", (3,), int(1e9)),
    _Size("stage3_param_persistence_threshold", "param_persistence_threshold", (3,), int(1e5)),
    _Size("stage3_model_persistence_threshold", "model_persistence_threshold", (3,), sys.maxsize),
)
_DEFAULT = {s.key: s.default for s in SIZES}
#: every spelling of every size key, for "auto" and for what counts as set by the user
SIZE_KEYS: frozenset[str] = frozenset(
    name for s in SIZES for name in (s.key, s.other_name) if name is not None)


def _rules(facts: ModelFacts) -> dict[str, tuple[int, str]]:
    """Every size with its reason, before the cap at DeepSpeed's defaults."""
    n, layer = facts.num_params, max(facts.largest_layer, facts.largest_tensor)
    # Every collective is a wait for the slowest rank; on CPU ranks (no overlap with the
    # computation) those waits, not the bytes, made ZeRO-3 with one-layer sizes (buckets of
    # 1/32 of the model, one layer gathered and kept, 1 % kept whole) take 1.08-1.19x
    # DeepSpeed's step (SATRN, ABINet; benchmarks/zero_memory.py): the sizes below keep the
    # collectives few and the memory small.
    bucket = _round_up(max(math.ceil(n / BUCKET_SHARE), BUCKET_FLOOR), 1024)
    bucket_why = f"1/{BUCKET_SHARE} of the model, at least {_count(BUCKET_FLOOR)}"
    layer = _round_up(layer, 1024)
    reuse = _round_up(max(layer, math.ceil(n / REUSE_SHARE)), 1024)
    # never above DeepSpeed's defaults (derived_sizes caps every size; the sum below must
    # count the capped ones)
    reuse, prefetch = min(reuse, _DEFAULT["stage3_max_reuse_distance"]), min(
        reuse, _DEFAULT["stage3_prefetch_bucket_size"])
    persist, persisted = _persistence(facts)
    return {
        "reduce_bucket_size": (bucket, f"{bucket_why}: gradients are reduced in that many "
                               "collectives (DeepSpeed's default: one, holding a second copy of "
                               "the whole gradient)"),
        "allgather_bucket_size": (bucket, f"{bucket_why}, per chunk of the parameter all-gather "
                                  "after each step"),
        "sub_group_size": (bucket, f"{bucket_why}: the optimizer steps one sub-group at a time "
                           "and flattens its gradients (and Adam its temporaries) per "
                           "sub-group"),
        "stage3_prefetch_bucket_size": (
            prefetch, f"1/{REUSE_SHARE} of the model, at least its largest layer: the next "
            "layers' parameters gathered in one collective"),
        "stage3_max_live_parameters": (reuse + prefetch + layer, "what is kept for reuse, plus "
                                       "the prefetched parameters, plus the largest layer"),
        "stage3_max_reuse_distance": (reuse, f"1/{REUSE_SHARE} of the model, at least its "
                                      "largest layer: a gathered parameter used again within "
                                      "that many elements (the last layers of forward, in "
                                      "backward; a module called several times) is kept, the "
                                      "others released (DeepSpeed's default keeps the whole "
                                      "model gathered from forward to backward)"),
        "stage3_param_persistence_threshold": (
            persist, f"the tensors of at most this many elements add up to {_count(persisted)}, "
            f"within {PERSIST_SHARE:.0%} of the model: kept whole on every rank, which saves "
            "their small all-gathers"),
        "stage3_model_persistence_threshold": (int(PERSIST_SHARE * n), f"at most "
                                               f"{PERSIST_SHARE:.0%} of the model kept whole"),
    }


def _persistence(facts: ModelFacts) -> tuple[int, int]:
    """The largest tensor size at or under which all tensors together stay within 1 % of the
    model, and what they add up to."""
    budget = int(PERSIST_SHARE * facts.num_params)
    threshold, total = 0, 0
    for numel in sorted(facts.tensor_numels):
        if total + numel > budget:
            break
        total += numel
        threshold = numel
    return threshold, total


def derived_sizes(facts: ModelFacts, stage: int) -> list[tuple[str, int, str]]:
    """``(key, value, reason)`` for each buffer size ZeRO ``stage`` reads, derived from ``facts``.

    Never above DeepSpeed's own default (a model that large gets DeepSpeed's sizes).
    """
    rules = _rules(facts)
    out = []
    for size in SIZES:
        if stage not in size.stages:
            continue
        value, reason = rules[size.key]
        if value >= size.default:
            value, reason = size.default, "DeepSpeed's default (ours would be larger)"
        out.append((size.key, int(value), reason))
    return out


def fill_zero_buffers(zero: MutableMapping, facts: ModelFacts | None, user_keys: Sequence[str],
                      source: Mapping[str, str], notes: list[str]) -> None:
    """Write the derived sizes into ``zero`` (the ``zero_optimization`` section) in place.

    Args:
        zero: the merged section; its ``stage`` decides which sizes apply.
        facts: the model's facts; None leaves every unset size to DeepSpeed (and says so).
        user_keys: the size keys (any spelling) the user set to a value, not ``"auto"``.
        source: for each of those keys, the name of the section that set it (for the notes).
        notes: where the chosen values and their reasons go.
    """
    stage = zero.get("stage", 0)
    if stage == 0:
        return
    if facts is None:
        notes.append("zero_optimization: buffer sizes left to DeepSpeed's defaults (no model "
                     "facts given to the translator)")
        return
    notes.append(f"zero_optimization: buffer sizes derived from the model ({facts.describe()}; "
                 f"DeepSpeed's defaults are sized for billion-parameter models); set any of them "
                 f"in the deepspeed section to override")
    for key, value, reason in derived_sizes(facts, stage):
        size = next(s for s in SIZES if s.key == key)
        given = next((n for n in (size.key, size.other_name) if n in user_keys), None)
        if given is not None:
            notes.append(f"zero_optimization.{given}: {zero[given]!r} from "
                         f"{source.get(given, 'the user')} kept (derived: {value})")
            continue
        zero[key] = value
        readable = f" ({_count(value)})" if value >= 1000 else ""
        notes.append(f"zero_optimization.{key}: {value}{readable}: {reason}")


def _round_up(value: int, multiple: int) -> int:
    return int(math.ceil(value / multiple) * multiple)


def _count(n: int) -> str:
    """1234567 -> '1.2 M' (elements or parameters, for notes)."""
    if n >= 10**9:
        return f"{n / 1e9:.1f} G"
    if n >= 10**6:
        return f"{n / 1e6:.1f} M"
    if n >= 10**3:
        return f"{n / 1e3:.1f} k"
    return str(n)

"""``UniformConcatDataset`` (MMOCR 0.6.3) and mmdet's ``ConcatDataset``: datasets read as one.

``UniformConcatDataset`` assigns one ``pipeline`` to every member config whose own pipeline is
None (or to all with ``force_apply=True``), and evaluates each member separately: metric ``k`` of
member ``i`` becomes ``'{i}_{k}'``, plus ``'mean_{k}'`` over the members when
``show_mean_scores`` says so (``'auto'``, the default: only with more than one member).
``ConcatDataset`` (also what a list of datasets in ``data.train`` becomes) is the same without
``pipeline`` and without means, as mmdet's.
"""
from __future__ import annotations

import bisect
import copy
import logging
from collections import defaultdict
from typing import Any, Mapping, Sequence

import numpy as np
from torch.utils.data import Dataset

from ocr_ds.errors import UserError
from ocr_ds.registry import DATASETS, build

logger = logging.getLogger("ocr_ds")


def _is_2d(items: Sequence[Any]) -> bool:
    return len(items) > 0 and all(isinstance(x, (list, tuple)) for x in items)


class UniformConcatDataset(Dataset):
    """Concatenate datasets (configs or built datasets), as MMOCR 0.6.3's class.

    Args:
        datasets: Dataset configs or datasets; a list of lists is flattened (MMOCR allows
            ``[train_list1, train_list2]`` with one pipeline per inner list).
        separate_eval: Evaluate members separately (the only mode, as in MMOCR). Defaults
            to True.
        show_mean_scores: Add ``mean_<metric>`` over the members: True, False or ``'auto'``
            (only when there is more than one member). Defaults to ``'auto'``.
        pipeline: A pipeline (list of steps) for members without one, or a list of pipelines,
            one per inner list of ``datasets``. Defaults to None.
        force_apply: Apply ``pipeline`` even to members that have their own. Defaults to False.
        **kwargs: Defaults for every member built from a config (e.g. ``test_mode``).
    """

    def __init__(self, datasets: Sequence[Any], separate_eval: bool = True,
                 show_mean_scores: bool | str = "auto", pipeline: Sequence[Any] | None = None,
                 force_apply: bool = False, **kwargs: Any):
        super().__init__()
        name = type(self).__name__
        if "get_mean" in kwargs:
            raise UserError(f"{name}.get_mean: not an MMOCR argument; use show_mean_scores "
                            f"(True, False or 'auto') (got get_mean={kwargs['get_mean']!r})")
        if not isinstance(datasets, (list, tuple)) or not datasets:
            raise UserError(f"{name}.datasets: expected a non-empty list (got {datasets!r})")
        if not separate_eval:
            raise UserError(f"{name}.separate_eval: only True is supported (as in MMOCR)")
        if not (isinstance(show_mean_scores, bool) or show_mean_scores == "auto"):
            raise UserError(f"{name}.show_mean_scores: expected True, False or 'auto' "
                            f"(got {show_mean_scores!r})")
        if pipeline is not None and not isinstance(pipeline, (list, tuple)):
            raise UserError(f"{name}.pipeline: expected a list of steps or a list of "
                            f"pipelines (got {type(pipeline).__name__})")
        flat: list[Any] = []
        if pipeline is not None and _is_2d(pipeline):
            if not _is_2d(datasets) or len(datasets) != len(pipeline):
                raise UserError(f"{name}.pipeline: a list of pipelines needs a list of "
                                "dataset lists of the same length")
            for group, group_pipeline in zip(datasets, pipeline):
                flat += self._with_pipeline(group, group_pipeline, force_apply)
        else:
            members = [d for group in datasets for d in group] if _is_2d(datasets) else datasets
            flat = self._with_pipeline(members, pipeline, force_apply)
        self.datasets = []
        for i, member in enumerate(flat):
            if isinstance(member, Mapping):
                member = build(DATASETS, {**kwargs, **member}, f"datasets.{i}")
            self.datasets.append(member)
        self.cumulative_sizes: list[int] = []
        total = 0
        for member in self.datasets:
            total += len(member)
            self.cumulative_sizes.append(total)
        if show_mean_scores == "auto":
            show_mean_scores = len(self.datasets) > 1
        self.show_mean_scores = show_mean_scores
        if show_mean_scores and len({type(d) for d in self.datasets}) != 1:
            raise UserError(f"{name}.show_mean_scores: mean scores need datasets of one type "
                            f"(got {sorted({type(d).__name__ for d in self.datasets})})")
        first = self.datasets[0]
        self.CLASSES = getattr(first, "CLASSES", None)
        if getattr(first, "collate_fn", None) is not None:
            self.collate_fn = first.collate_fn

    @staticmethod
    def _with_pipeline(members: Sequence[Any], pipeline: Sequence[Any] | None,
                       force_apply: bool) -> list[Any]:
        out = []
        for member in members:
            if isinstance(member, Mapping):
                member = dict(member)
                if pipeline is not None and (member.get("pipeline") is None or force_apply):
                    member["pipeline"] = copy.deepcopy(list(pipeline))
            out.append(member)
        return out

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]

    def evaluate(self, results: Sequence[Any], logger: Any = None, **kwargs: Any
                 ) -> dict[str, float]:
        """``'{i}_{metric}'`` for each member ``i``, and ``'mean_{metric}'`` when
        ``show_mean_scores``."""
        if len(results) != len(self):
            raise ValueError(f"ConcatDataset.evaluate: {len(results)} results for "
                             f"{len(self)} samples")
        log = logger if isinstance(logger, logging.Logger) else logging.getLogger("ocr_ds")
        total: dict[str, float] = {}
        per_metric: dict[str, list[float]] = defaultdict(list)
        start = 0
        for i, (member, end) in enumerate(zip(self.datasets, self.cumulative_sizes)):
            part = results[start:end]
            log.info("Evaluating %s with %d images now",
                     getattr(member, "ann_file", type(member).__name__), len(part))
            for key, value in member.evaluate(part, logger=logger, **kwargs).items():
                total[f"{i}_{key}"] = value
                per_metric[key].append(value)
            start = end
        if self.show_mean_scores:
            for key, values in per_metric.items():
                total[f"mean_{key}"] = float(np.mean(values))
        return total


class ConcatDataset(UniformConcatDataset):
    """mmdet's ``ConcatDataset``: members evaluated separately, no pipeline, no means.

    Args:
        datasets: Dataset configs or datasets.
        separate_eval: Evaluate members separately (the only mode supported). Defaults to True.
        **kwargs: Defaults for every member built from a config.
    """

    def __init__(self, datasets: Sequence[Any], separate_eval: bool = True, **kwargs: Any):
        for key in ("pipeline", "force_apply", "show_mean_scores"):
            if key in kwargs:
                raise UserError(f"ConcatDataset.{key}: not an argument of mmdet's ConcatDataset; "
                                f"use type='UniformConcatDataset' for it")
        super().__init__(datasets, separate_eval, show_mean_scores=False, **kwargs)

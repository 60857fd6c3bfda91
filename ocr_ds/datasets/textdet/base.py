"""What the text detection datasets share: sample retrieval with bad-sample skipping, and
``evaluate`` (hmean-iou / hmean-ic13 through :func:`ocr_ds.metrics.hmean.eval_hmean`).

A subclass provides ``__len__``, ``prepare(idx)`` (the pipeline's output, or None when the
pipeline drops the sample), ``eval_infos()`` (per image the ``img_info`` and ``ann_info`` the
metric reads) and ``_another(idx)`` (which sample to try after a bad one: mmdet's datasets draw
one at random, MMOCR's line-based ones take the next).
"""
from __future__ import annotations

import logging
from typing import Any, Sequence

from torch.utils.data import Dataset

from ocr_ds.datasets.invalid import InvalidSample, SkipCounter
from ocr_ds.errors import UserError


class DetDatasetBase(Dataset):
    ann_file: str
    test_mode: bool
    skip_invalid: bool
    _skipped: SkipCounter

    def prepare(self, idx: int) -> dict[str, Any] | None:
        raise NotImplementedError

    def eval_infos(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        raise NotImplementedError

    def _another(self, idx: int) -> int:
        raise NotImplementedError

    def __getitem__(self, idx: int) -> dict[str, Any]:
        if self.test_mode:
            try:
                sample = self.prepare(idx)
            except InvalidSample as exc:
                raise exc.to_user_error() from None
            if sample is None:
                raise UserError(f"{self.ann_file}: the test pipeline dropped sample {idx}")
            return sample
        last: Any = "the pipeline dropped every sample"
        for _ in range(max(len(self), 1) * 2):
            try:
                sample = self.prepare(idx)
            except InvalidSample as exc:
                if not self.skip_invalid:
                    raise exc.to_user_error() from None
                self._skipped.record(exc)
                sample, last = None, exc
            if sample is not None:
                return sample
            idx = self._another(idx)
        raise UserError(f"{self.ann_file}: no usable training sample among {len(self)} images "
                        f"(e.g. {last}); expected readable images with text annotations")

    @classmethod
    def metric_keys(cls, metric: str | Sequence[str] | None, key: str = "evaluation.metric"
                    ) -> list[str]:
        """The keys :meth:`evaluate` returns for ``metric``; an unknown name is a UserError at
        ``key`` (checked before a run starts)."""
        from ocr_ds.metrics.hmean import METRICS

        names = [metric] if isinstance(metric, str) else list(metric or ["hmean-iou"])
        unknown = [m for m in names if m not in METRICS]
        if unknown:
            raise UserError(f"{key}: expected 'hmean-iou' or 'hmean-ic13' for {cls.__name__} "
                            f"(got {unknown[0]!r})")
        return [f"{m}:{part}" for m in METRICS if m in names
                for part in ("recall", "precision", "hmean")]

    def evaluate(self, results: Sequence[dict[str, Any]], metric: str | list[str] = "hmean-iou",
                 logger: Any = None, score_thr: float | None = None,
                 min_score_thr: float = 0.3, max_score_thr: float = 0.9, step: float = 0.1,
                 rank_list: str | None = None, **kwargs: Any) -> dict[str, float]:
        """``metric`` (``'hmean-iou'``, ``'hmean-ic13'`` or a list) of ``results``, one
        ``{'boundary_result': [[x1, y1, ..., score], ...]}`` per image in dataset order."""
        from ocr_ds.metrics.hmean import eval_hmean

        if len(results) != len(self):
            raise UserError(f"evaluate: {len(results)} results for {len(self)} images of "
                            f"{self.ann_file}")
        img_infos, ann_infos = self.eval_infos()
        return eval_hmean(results, img_infos, ann_infos,
                          metrics=metric if isinstance(metric, (list, tuple, set)) else [metric],
                          score_thr=score_thr, min_score_thr=min_score_thr,
                          max_score_thr=max_score_thr, step=step, rank_list=rank_list,
                          logger=logger if isinstance(logger, logging.Logger) else None)

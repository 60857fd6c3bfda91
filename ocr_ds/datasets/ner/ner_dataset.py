"""``NerDataset``: texts and their entities, one JSON line each (CLUENER's layout), as MMOCR
0.6.3's configs describe them::

    dict(type='NerDataset', ann_file='data/cluener2020/train.json',
         loader=dict(type='HardDiskLoader', repeat=1,
                     parser=dict(type='LineJsonParser', keys=['text', 'label'])),
         pipeline=[dict(type='NerTransform', ...), dict(type='ToTensorNER')], test_mode=False)

A line: ``{"text": "...", "label": {category: {entity text: [[start, end], ...]}}}`` (``end``
inclusive). Samples have no image. A line that cannot be used (not JSON, a missing key, a text
that is not a string, a category the convertor does not know) is skipped in training, counted,
with one warning per kind (MMOCR retries the next index after any exception); in test mode it is
a one-line error naming file and line (MMOCR stops there too). ``evaluate`` is MMOCR's
``eval_ner_f1``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ocr_ds.datasets.invalid import MALFORMED_ANNOTATION, InvalidSample
from ocr_ds.datasets.textrecog.ocr_dataset import OCRDataset
from ocr_ds.errors import UserError
from ocr_ds.metrics.ner_metric import eval_ner_f1

# what MMOCR's docstring lists; NerDataset computes all of them whatever is asked
METRICS = ("f1-score", "precision", "recall", "acc")


class NerDataset(OCRDataset):
    """NER dataset over a JSON-lines annotation file (loading and skipping as ``OCRDataset``).

    Args:
        ann_file: Annotation file (one JSON object a line).
        loader: Loader config (``HardDiskLoader``/``AnnFileLoader`` with ``LineJsonParser``
            keys ``['text', 'label']``).
        pipeline: Pipeline step configs (``NerTransform``, ``ToTensorNER``); None gives the
            parsed annotations.
        img_prefix: Accepted for MMOCR configs (its base class has it); unused.
        test_mode: Evaluation dataset. Defaults to False.
        skip_invalid: Skip bad training samples (True) or fail on the first. Defaults to True.
    """

    has_images = False   # test.py refuses --show/--show-dir for it
    # each metric is a group ({precision, recall, f1-score}): save_best names one number
    metric_groups = ("precision", "recall", "f1-score")

    def __init__(self, ann_file: str, loader: Mapping[str, Any],
                 pipeline: Sequence[Mapping[str, Any]] | None = None, img_prefix: str = "",
                 test_mode: bool = False, skip_invalid: bool = True):
        super().__init__(ann_file, loader=loader, pipeline=pipeline, img_prefix=img_prefix,
                         test_mode=test_mode, skip_invalid=skip_invalid)

    def _info(self, index: int) -> dict[str, Any]:
        info = self.data_infos[index]
        where = self.data_infos.where(index)
        if not isinstance(info.get("text"), str):
            raise InvalidSample(MALFORMED_ANNOTATION, where,
                                f"text is {type(info.get('text')).__name__}")
        if not _is_label(info.get("label")):
            raise InvalidSample(MALFORMED_ANNOTATION, where, "label is not "
                                "{category: {entity text: [[start, end], ...]}}")
        return info

    def prepare(self, index: int) -> dict[str, Any]:
        try:
            return super().prepare(index)
        except ValueError as exc:   # e.g. a category the convertor does not know
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(index),
                                str(exc)) from None

    def _results(self, index: int) -> dict[str, Any]:
        info = self._info(index)
        return dict(text=info["text"], label=info["label"])

    def _check_sample(self, sample: dict[str, Any]) -> None:
        if not isinstance(sample.get("img_metas"), Mapping):
            raise UserError("pipeline: must end with ToTensorNER (NerTransform, then "
                            "ToTensorNER)")

    def _placeholder(self, index: int) -> dict[str, Any]:
        """A test set's every line is evaluated: a bad one stops the test (as in MMOCR)."""
        try:
            self.prepare(index)
        except InvalidSample as exc:
            raise UserError(f"{exc}; expected a JSON line with a text and its label") from None
        raise AssertionError("unreachable")

    # -- evaluation -------------------------------------------------------------------------
    @classmethod
    def metric_keys(cls, metric: str | Sequence[str] | None, key: str = "evaluation.metric"
                    ) -> list[str]:
        """``['all']``: the one key every evaluation has (the others are the categories of the
        ground truth, known only then); an unknown metric name is a UserError at ``key``."""
        names = [metric] if isinstance(metric, str) or metric is None else list(metric)
        unknown = [m for m in names if m is not None and m not in METRICS]
        if unknown:
            raise UserError(f"{key}: expected some of {', '.join(METRICS)} for {cls.__name__} "
                            f"(all are computed; got {unknown[0]!r})")
        return ["all"]

    def evaluate(self, results: Sequence[Sequence], metric: Any = None, logger: Any = None,
                 **kwargs: Any) -> dict[str, dict[str, float]]:
        """MMOCR's ``eval_ner_f1`` of ``results`` (one list of ``[category, start, end]`` per
        text, in dataset order): ``{category: {'precision', 'recall', 'f1-score'}, ...,
        'all': {...}}``. ``metric`` is accepted and ignored, as in MMOCR."""
        if len(results) != len(self):
            raise ValueError(f"evaluate: {len(results)} results for {len(self)} samples")
        return eval_ner_f1(results, [self._info(i) for i in range(len(self))])


def _is_label(label: Any) -> bool:
    if not isinstance(label, Mapping):
        return False
    for entities in label.values():
        if not isinstance(entities, Mapping):
            return False
        for places in entities.values():
            if not isinstance(places, (list, tuple)) or not all(
                    isinstance(p, (list, tuple)) and len(p) == 2
                    and all(isinstance(v, int) for v in p) for p in places):
                return False
    return True

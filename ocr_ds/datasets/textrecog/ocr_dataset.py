"""``OCRDataset``: word crops and their texts, as MMOCR 0.x configs describe them.

::

    dict(type='OCRDataset', img_prefix='data/mixture/IIIT5K/',
         ann_file='data/mixture/IIIT5K/test_label.txt',
         loader=dict(type='AnnFileLoader', repeat=1, file_format='txt',
                     parser=dict(type='LineStrParser', keys=['filename', 'text'],
                                 keys_idx=[0, 1], separator=' ')),
         pipeline=[...], test_mode=True)

Bad data never stops an epoch (unless asked to): a sample with a missing or undecodable image,
an empty or malformed annotation, or (in training, when ``charset`` is given) a character the
model cannot learn is counted in ``skipped`` and reported with one warning per kind. In
training the next valid index is returned in its place, so the length, and the sharding of a
distributed sampler, never change. In test mode every index keeps its own slot: a sample whose
image cannot be read gets a blank image (its prediction counts as wrong), and annotations that
cannot be parsed are left out of ``evaluate``. ``skip_invalid=False`` turns the first bad
sample into a one-line error naming the file and line instead.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, Mapping, Sequence

import torch
from torch.utils.data import Dataset

from ocr_ds.datasets.invalid import EMPTY_ANNOTATION, OUT_OF_CHARSET, InvalidSample, SkipCounter
from ocr_ds.datasets.pipelines import Compose
from ocr_ds.errors import UserError
from ocr_ds.metrics.recog_metric import METRICS, eval_ocr_metric
from ocr_ds.models.textrecog.dictionary import Charset
from ocr_ds.registry import LOADERS, build

logger = logging.getLogger("ocr_ds")

DEFAULT_LOADER = dict(type="AnnFileLoader", repeat=1, file_format="txt",
                      parser=dict(type="LineStrParser", keys=["filename", "text"],
                                  keys_idx=[0, 1], separator=" "))


class OCRDataset(Dataset):
    """Recognition dataset over an annotation file or lmdb.

    Args:
        ann_file: Annotation file (txt / JSON lines) or lmdb directory.
        loader: Loader config (``AnnFileLoader``, ``HardDiskLoader``, ``LmdbLoader``).
            Defaults to a txt ``LineStrParser`` loader.
        pipeline: Pipeline step configs; None means raw annotation dicts (set it here or
            through ``ConcatDataset(pipeline=...)``).
        img_prefix: Directory the image paths are relative to (the lmdb dir for images stored
            in an lmdb). Defaults to ``''``.
        test_mode: Evaluation dataset (see the module docstring). Defaults to False.
        skip_invalid: Skip bad samples (True) or fail on the first one. Defaults to True.
        charset: In training, skip samples whose text has characters outside it: a dict type
            name, a list of characters or the model's ``label_convertor`` dict. Defaults to None
            (no check; the convertor then drops unknown characters with a warning).
    """

    def __init__(self, ann_file: str, loader: Mapping[str, Any] | None = None,
                 pipeline: Sequence[Mapping[str, Any]] | None = None, img_prefix: str = "",
                 test_mode: bool = False, skip_invalid: bool = True, charset: Any = None,
                 **kwargs: Any):
        super().__init__()
        self.ann_file = str(ann_file)
        self.img_prefix = img_prefix or ""
        self.test_mode = test_mode
        self.skip_invalid = skip_invalid
        loader_cfg = copy.deepcopy(dict(loader or DEFAULT_LOADER))
        loader_cfg.pop("ann_file", None)  # the dataset's wins, as in MMOCR
        # passed apart from the loader's config, so its errors name ann_file (this dataset's key)
        self.data_infos = build(LOADERS, loader_cfg, "loader", ann_file=self.ann_file)
        if len(self.data_infos) == 0:
            raise UserError(f"ann_file: {self.ann_file}: no annotations")
        self.pipeline = Compose(pipeline, key="pipeline") if pipeline is not None else None
        self.charset = Charset.from_spec(charset) if charset is not None else None
        self.skipped = SkipCounter(f"{type(self).__name__}({self.ann_file})")
        self.CLASSES = 0

    def __len__(self) -> int:
        return len(self.data_infos)

    # -- one sample -------------------------------------------------------------------------
    def _info(self, index: int) -> dict[str, Any]:
        """Parsed annotation ``index``; raises InvalidSample for one a model cannot train on."""
        info = self.data_infos[index]
        text = info.get("text")
        if not isinstance(text, str):
            raise InvalidSample(EMPTY_ANNOTATION, self.data_infos.where(index),
                                f"text is {type(text).__name__}")
        if not self.test_mode:
            if not text:
                raise InvalidSample(EMPTY_ANNOTATION, self.data_infos.where(index), "empty text")
            if self.charset is not None:
                bad = self.charset.unknown(text)
                if bad:
                    raise InvalidSample(OUT_OF_CHARSET, self.data_infos.where(index),
                                        f"{''.join(bad)!r} in {text!r}")
        return info

    def prepare(self, index: int) -> dict[str, Any]:
        """Annotation ``index`` through the pipeline; raises InvalidSample on bad data."""
        results = self._results(index)
        if self.pipeline is None:
            return results
        sample = self.pipeline(results)
        if sample is None:
            raise InvalidSample("sample dropped by the pipeline", self.data_infos.where(index))
        self._check_sample(sample)
        return sample

    def _results(self, index: int) -> dict[str, Any]:
        """The pipeline input of annotation ``index``; raises InvalidSample on bad data."""
        info = self._info(index)
        return dict(img_info=dict(info), img_prefix=self.img_prefix, text=info["text"])

    def _check_sample(self, sample: dict[str, Any]) -> None:
        if not isinstance(sample.get("img"), torch.Tensor) or "img_metas" not in sample:
            raise UserError("pipeline: must end with a tensor 'img' and 'img_metas' (add "
                            "DefaultFormatBundle or ToTensorOCR, then Collect(keys=['img']))")

    def _placeholder(self, index: int) -> dict[str, Any]:
        """A blank-image sample for test index ``index`` (its prediction counts as wrong)."""
        try:
            info = dict(self.data_infos[index])
        except InvalidSample:
            info = {"filename": "", "text": ""}
        results = self._blank_results(info)
        loader = self.pipeline.transforms[0] if self.pipeline and len(self.pipeline) else None
        if not hasattr(loader, "placeholder"):
            raise UserError("pipeline.0: the first step must load the image (LoadImageFromFile "
                            "or LoadImageFromLMDB)")
        sample = self.pipeline(loader.placeholder(results), start=1)
        self._check_sample(sample)
        sample["img_metas"]["invalid"] = True
        return sample

    def _blank_results(self, info: dict[str, Any]) -> dict[str, Any]:
        """The pipeline input of a placeholder sample (before its blank image)."""
        return dict(img_info=info, img_prefix=self.img_prefix, text=info.get("text", ""))

    def __getitem__(self, index: int) -> dict[str, Any]:
        try:
            return self.prepare(index)
        except InvalidSample as exc:
            if not self.skip_invalid:
                raise exc.to_user_error() from None
            self.skipped.record(exc)
            first = exc
        if self.test_mode:
            return self._placeholder(index)
        # only the requested index is counted: a bad neighbour is counted when it is requested
        for step in range(1, len(self)):
            try:
                return self.prepare((index + step) % len(self))
            except InvalidSample:
                continue
        raise UserError(f"ann_file: {self.ann_file}: none of its {len(self)} samples is usable "
                        f"(e.g. {first}); expected readable annotations and images")

    # -- evaluation -------------------------------------------------------------------------
    def gt_texts(self) -> list[str | None]:
        """Ground truth of every index; None where the annotation cannot be read."""
        texts: list[str | None] = []
        for i in range(len(self)):
            try:
                text = self.data_infos[i].get("text")
            except InvalidSample:
                text = None
            texts.append(text if isinstance(text, str) else None)
        return texts

    @classmethod
    def metric_keys(cls, metric: str | Sequence[str] | None, key: str = "evaluation.metric"
                    ) -> list[str]:
        """The keys :meth:`evaluate` returns for ``metric`` (``'acc'``: all of them); an
        unknown name is a UserError at ``key`` (checked before a run starts)."""
        if metric in (None, "acc") or (not isinstance(metric, str) and list(metric) == ["acc"]):
            names = list(METRICS)
        else:
            names = [metric] if isinstance(metric, str) else list(metric)
        unknown = [m for m in names if m not in METRICS]
        if unknown:
            raise UserError(f"{key}: expected 'acc' or some of {', '.join(METRICS)} for "
                            f"{cls.__name__} (got {unknown[0]!r})")
        return list(eval_ocr_metric([""], [""], metric=names))  # in evaluate's order

    def evaluate(self, results: Sequence[Mapping[str, Any]], metric: str | Sequence[str] = "acc",
                 logger: Any = None, **kwargs: Any) -> dict[str, float]:
        """MMOCR's recognition metrics of ``results`` (one ``{'text': ...}`` per index).

        ``metric='acc'`` gives all of them; otherwise names from
        :data:`ocr_ds.metrics.recog_metric.METRICS`.
        """
        if len(results) != len(self):
            raise ValueError(f"evaluate: {len(results)} results for {len(self)} samples")
        gts, preds = [], []
        for gt, result in zip(self.gt_texts(), results):
            if gt is not None:
                gts.append(gt)
                preds.append(result["text"])
        left_out = len(self) - len(gts)
        if left_out:
            (logger if isinstance(logger, logging.Logger) else logging.getLogger("ocr_ds")
             ).warning("%s(%s): %d unreadable annotation(s) left out of evaluation",
                       type(self).__name__, self.ann_file, left_out)
        return eval_ocr_metric(preds, gts, metric=metric)

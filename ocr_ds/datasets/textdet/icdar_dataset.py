"""``IcdarDataset``: text detection samples from a COCO-style JSON (MMOCR 0.x's dataset).

``ann_file`` is a COCO JSON (``images``, ``annotations`` with ``segmentation`` polygons,
``iscrowd=1`` for don't-care regions), or a directory of native ICDAR 2015 ``gt_img_N.txt``
files (then ``img_prefix`` is the directory of the ``img_N.*`` images). An annotation with
``area <= 0`` or a box side below 1 is dropped; ``iscrowd=1`` ones become
``bboxes_ignore``/``masks_ignore``. In training, images without any annotation or smaller
than 32 px are left out (mmdet's ``filter_empty_gt``).

Each sample runs the pipeline on mmdet's ``results`` dict (``img_info``, ``ann_info``,
``img_prefix``, ``bbox_fields``/``mask_fields``/``seg_fields``). ``evaluate`` computes
``hmean-iou`` (:mod:`ocr_ds.metrics.hmean_iou`).
"""
from __future__ import annotations

import copy
import json
import logging
import os
from typing import Any, Mapping, Sequence

import numpy as np
from torch.utils.data import Dataset

from ocr_ds.datasets.invalid import InvalidSample, SkipCounter
from ocr_ds.datasets.textdet.icdar_txt import icdar_dir_to_coco
from ocr_ds.errors import UserError


def load_coco(ann_file: str) -> dict[str, Any]:
    """Read and minimally check a COCO detection JSON."""
    if not os.path.isfile(ann_file):
        raise UserError(f"ann_file: file not found (got {ann_file!r})")
    from ocr_ds.fileio import read_text

    try:
        coco = json.loads(read_text(ann_file, "COCO JSON file"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{ann_file}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise UserError(f"{ann_file}: expected a COCO dict with an 'images' list")
    for key in ("annotations", "categories"):
        coco.setdefault(key, [])
        if not isinstance(coco[key], list):
            raise UserError(f"{ann_file}: {key}: expected a list (got {type(coco[key]).__name__})")
    _require(ann_file, "images", coco["images"], ("id", "file_name"))
    _require(ann_file, "annotations", coco["annotations"], ("image_id", "bbox"))
    _require(ann_file, "categories", coco["categories"], ("id",))
    for i, ann in enumerate(coco["annotations"]):
        bbox = ann["bbox"]
        if not (isinstance(bbox, (list, tuple)) and len(bbox) == 4
                and all(isinstance(v, (int, float)) for v in bbox)):
            raise UserError(f"{ann_file}: annotations[{i}].bbox: expected [x, y, w, h] numbers "
                            f"(got {bbox!r})")
    return coco


def _require(ann_file: str, key: str, items: list, needed: tuple[str, ...]) -> None:
    """Every entry of ``coco[key]`` is a dict with the ``needed`` keys (COCO's format)."""
    for i, item in enumerate(items):
        missing = [k for k in needed if k not in item] if isinstance(item, dict) else list(needed)
        if missing:
            raise UserError(f"{ann_file}: {key}[{i}]: expected a dict with {', '.join(needed)} "
                            f"(missing {', '.join(missing)})")


class IcdarDataset(Dataset):
    """COCO-style text detection data set.

    Args:
        ann_file: COCO JSON path, or a directory of ``gt_img_N.txt`` files.
        pipeline: Steps (config dicts) run on each sample.
        classes: Category names kept. Defaults to ``('text',)``; with no categories in the
            file, every annotation counts as text.
        data_root: Joined to relative ``ann_file``/``img_prefix``. Defaults to None.
        img_prefix: Image directory. Defaults to ''.
        test_mode: Evaluation samples (no annotations loaded, no filtering). Defaults to False.
        filter_empty_gt: In training, drop images without annotations. Defaults to True.
        select_first_k: Keep only the first k images (-1: all). Defaults to -1.
        skip_invalid: In training, skip (count, warn once) images that cannot be read
            instead of failing. Defaults to True.
    """

    CLASSES = ("text",)

    def __init__(self, ann_file: str, pipeline: Sequence[Mapping[str, Any]] | None = None,
                 classes: Sequence[str] | None = None, data_root: str | None = None,
                 img_prefix: str = "", seg_prefix: str | None = None,
                 proposal_file: str | None = None, test_mode: bool = False,
                 filter_empty_gt: bool = True, select_first_k: int = -1,
                 skip_invalid: bool = True):
        from ocr_ds.datasets.pipelines.compose import Compose

        if data_root is not None:
            if not os.path.isabs(ann_file):
                ann_file = os.path.join(data_root, ann_file)
            if img_prefix and not os.path.isabs(img_prefix):
                img_prefix = os.path.join(data_root, img_prefix)
        self.ann_file = ann_file
        self.img_prefix = img_prefix
        self.test_mode = test_mode
        self.skip_invalid = skip_invalid
        self.CLASSES = tuple(classes) if classes is not None else self.CLASSES
        coco = icdar_dir_to_coco(img_prefix, ann_file) if os.path.isdir(ann_file) \
            else load_coco(ann_file)
        self._index(coco, select_first_k)
        if not test_mode and filter_empty_gt:
            keep = [i for i, info in enumerate(self.data_infos)
                    if self._anns[info["id"]] and min(info.get("width", 32),
                                                      info.get("height", 32)) >= 32]
            self.data_infos = [self.data_infos[i] for i in keep]
        self.pipeline = Compose(pipeline, "pipeline")
        self._skipped = SkipCounter(type(self).__name__)

    def _index(self, coco: dict[str, Any], select_first_k: int) -> None:
        cats = coco["categories"]
        self.cat_ids = [c["id"] for c in cats if c.get("name") in self.CLASSES] if cats else [1]
        self._any_category = not cats
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        self._anns: dict[Any, list[dict]] = {img["id"]: [] for img in coco["images"]}
        for ann in coco["annotations"]:
            if ann.get("image_id") in self._anns:
                self._anns[ann["image_id"]].append(ann)
        infos = []
        for img in coco["images"]:
            if select_first_k > 0 and len(infos) >= select_first_k:
                break
            info = dict(img)
            info["filename"] = info["file_name"]
            infos.append(info)
        self.data_infos = infos

    def __len__(self) -> int:
        return len(self.data_infos)

    def get_ann_info(self, idx: int) -> dict[str, Any]:
        """The parsed annotation of image ``idx``: boxes, labels, polygons and ignored ones."""
        info = self.data_infos[idx]
        bboxes, labels, bboxes_ignore, masks, masks_ignore = [], [], [], [], []
        for ann in self._anns[info["id"]]:
            if ann.get("ignore", False):
                continue
            x1, y1, w, h = ann["bbox"]
            if ann.get("area", w * h) <= 0 or w < 1 or h < 1:
                continue
            cat = ann.get("category_id", 1)
            if not self._any_category and cat not in self.cat2label:
                continue
            bbox = [x1, y1, x1 + w, y1 + h]
            seg = ann.get("segmentation") or [[x1, y1, x1 + w, y1, x1 + w, y1 + h, x1, y1 + h]]
            if ann.get("iscrowd", False):
                bboxes_ignore.append(bbox)
                masks_ignore.append(seg)
            else:
                bboxes.append(bbox)
                labels.append(self.cat2label.get(cat, 0))
                masks.append(seg)
        return dict(bboxes=np.asarray(bboxes, np.float32).reshape(-1, 4),
                    labels=np.asarray(labels, np.int64),
                    bboxes_ignore=np.asarray(bboxes_ignore, np.float32).reshape(-1, 4),
                    masks=masks, masks_ignore=masks_ignore,
                    seg_map=info["filename"].rsplit(".", 1)[0] + ".png")

    def pre_pipeline(self, results: dict[str, Any]) -> dict[str, Any]:
        results.update(img_prefix=self.img_prefix, bbox_fields=[], mask_fields=[],
                       seg_fields=[])
        return results

    def prepare(self, idx: int) -> dict[str, Any] | None:
        results = dict(img_info=copy.deepcopy(self.data_infos[idx]))
        if not self.test_mode:
            results["ann_info"] = self.get_ann_info(idx)
        return self.pipeline(self.pre_pipeline(results))

    def __getitem__(self, idx: int) -> dict[str, Any]:
        if self.test_mode:
            try:
                sample = self.prepare(idx)
            except InvalidSample as exc:
                raise exc.to_user_error() from None
            if sample is None:
                raise UserError(f"{self.ann_file}: the test pipeline dropped image "
                                f"{self.data_infos[idx]['filename']}")
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
            idx = int(np.random.randint(len(self)))  # mmdet's _rand_another
        raise UserError(f"{self.ann_file}: no usable training sample among {len(self)} images "
                        f"(e.g. {last}); expected readable images with text annotations")

    def gt_polygons(self) -> tuple[list[list[list[float]]], list[list[list[float]]]]:
        """Per image, the cared and the don't-care polygons (flat lists), for the metric."""
        gts, ignored = [], []
        for i in range(len(self)):
            ann = self.get_ann_info(i)
            gts.append([list(np.asarray(m[0], np.float64).reshape(-1)) for m in ann["masks"]])
            ignored.append([list(np.asarray(m[0], np.float64).reshape(-1))
                            for m in ann["masks_ignore"]])
        return gts, ignored

    @classmethod
    def metric_keys(cls, metric: str | Sequence[str] | None, key: str = "evaluation.metric"
                    ) -> list[str]:
        """The keys :meth:`evaluate` returns for ``metric``; an unknown name is a UserError at
        ``key`` (checked before a run starts)."""
        names = [metric] if isinstance(metric, str) else list(metric or ["hmean-iou"])
        unknown = [m for m in names if m != "hmean-iou"]
        if unknown:
            raise UserError(f"{key}: expected 'hmean-iou' for {cls.__name__} (got {unknown[0]!r})")
        return ["hmean-iou:recall", "hmean-iou:precision", "hmean-iou:hmean"]

    def evaluate(self, results: list[dict[str, Any]], metric: str | list[str] = "hmean-iou",
                 logger: Any = None, score_thr: float | None = None,
                 min_score_thr: float = 0.3, max_score_thr: float = 0.9, step: float = 0.1,
                 rank_list: str | None = None, **kwargs: Any) -> dict[str, float]:
        """``hmean-iou`` of ``results`` (one ``{'boundary_result': ...}`` per image, in order)."""
        from ocr_ds.metrics.hmean_iou import eval_hmean

        if len(results) != len(self):
            raise UserError(f"evaluate: {len(results)} results for {len(self)} images of "
                            f"{self.ann_file}")
        metrics = metric if isinstance(metric, (list, tuple)) else [metric]
        if score_thr is not None:  # MMOCR's deprecated spelling
            min_score_thr = score_thr
        gts, ignored = self.gt_polygons()
        log = logger if isinstance(logger, logging.Logger) else None
        return eval_hmean(results, gts, ignored, metrics, min_score_thr, max_score_thr, step,
                          img_names=[info["filename"] for info in self.data_infos],
                          rank_list=rank_list, logger=log)

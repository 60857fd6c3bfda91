"""``IcdarDataset``: text detection samples from a COCO-style JSON (MMOCR 0.x's dataset).

``ann_file`` is a COCO JSON (``images``, ``annotations`` with ``segmentation`` polygons,
``iscrowd=1`` for don't-care regions), or a directory of native ICDAR 2015 ``gt_img_N.txt``
files (then ``img_prefix`` is the directory of the ``img_N.*`` images). An annotation with
``area <= 0`` or a box side below 1 is dropped; ``iscrowd=1`` ones become
``bboxes_ignore``/``masks_ignore``. In training, images without an annotation of the kept
categories (``filter_empty_gt``) and images smaller than 32 px are left out, as mmdet does.

Each sample runs the pipeline on mmdet's ``results`` dict (``img_info``, ``ann_info``,
``img_prefix``, ``bbox_fields``/``mask_fields``/``seg_fields``). ``evaluate`` computes
``hmean-iou`` / ``hmean-ic13`` (:mod:`ocr_ds.metrics.hmean`).
"""
from __future__ import annotations

import copy
import json
import os
from typing import Any, Mapping, Sequence

import numpy as np

from ocr_ds.datasets.invalid import SkipCounter
from ocr_ds.datasets.textdet.base import DetDatasetBase
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


class IcdarDataset(DetDatasetBase):
    """COCO-style text detection data set (MMOCR's ``IcdarDataset``, an mmdet ``CocoDataset``).

    Args:
        ann_file: COCO JSON path, or a directory of ``gt_img_N.txt`` files.
        pipeline: Steps (config dicts) run on each sample.
        classes: Category names kept (a list, or a file with one name per line). Defaults to
            ``('text',)``; with no categories in the file, every annotation counts as text.
        data_root: Joined to relative ``ann_file``, ``img_prefix``, ``seg_prefix`` and
            ``proposal_file``, as mmdet does (``img_prefix=''`` becomes ``data_root/``).
            Defaults to None.
        img_prefix: Image directory. Defaults to ''.
        test_mode: Evaluation samples (no annotations loaded, no filtering). Defaults to False.
        filter_empty_gt: In training, drop images without an annotation of the kept
            categories. Defaults to True. Training also drops images under 32 px.
        select_first_k: Keep only the first k images (-1: all). Defaults to -1.
        ann_file_backend: Only ``'disk'``. Defaults to ``'disk'``.
        skip_invalid: In training, skip (count, warn once) images that cannot be read
            instead of failing. Defaults to True.
    """

    CLASSES = ("text",)

    def __init__(self, ann_file: str, pipeline: Sequence[Mapping[str, Any]] | None = None,
                 classes: Sequence[str] | str | None = None, data_root: str | None = None,
                 img_prefix: str | None = "", seg_prefix: str | None = None,
                 proposal_file: str | None = None, test_mode: bool = False,
                 filter_empty_gt: bool = True, select_first_k: int = -1,
                 ann_file_backend: str = "disk", skip_invalid: bool = True):
        from ocr_ds.datasets.pipelines.compose import Compose

        if ann_file_backend != "disk":
            raise UserError(f"ann_file_backend: only 'disk' is supported (got "
                            f"{ann_file_backend!r})")

        def join(path: str | None) -> str | None:
            if data_root is None or path is None or os.path.isabs(path):
                return path
            return os.path.join(data_root, path)

        self.ann_file = join(ann_file)
        self.img_prefix, self.seg_prefix = join(img_prefix), join(seg_prefix)
        self.proposal_file = join(proposal_file)
        self.test_mode = test_mode
        self.skip_invalid = skip_invalid
        self.CLASSES = _class_names(classes) if classes is not None else self.CLASSES
        coco = icdar_dir_to_coco(self.img_prefix or "", self.ann_file) \
            if os.path.isdir(self.ann_file) else load_coco(self.ann_file)
        self._index(coco, select_first_k)
        if not test_mode:  # mmdet's _filter_imgs: empty images (optional), then small ones
            self.data_infos = [
                info for info in self.data_infos
                if not (filter_empty_gt and not self._has_kept_annotation(info["id"]))
                and min(info.get("width", 32), info.get("height", 32)) >= 32]
        self.flag = np.zeros(len(self), dtype=np.uint8)
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

    def _has_kept_annotation(self, img_id: Any) -> bool:
        return any(self._any_category or ann.get("category_id", 1) in self.cat2label
                   for ann in self._anns[img_id])

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
                    masks_ignore=masks_ignore, masks=masks,
                    seg_map=info["filename"].replace("jpg", "png"))  # sic: MMOCR's rule

    def pre_pipeline(self, results: dict[str, Any]) -> dict[str, Any]:
        results.update(img_prefix=self.img_prefix, seg_prefix=self.seg_prefix,
                       proposal_file=self.proposal_file, bbox_fields=[], mask_fields=[],
                       seg_fields=[])
        return results

    def prepare(self, idx: int) -> dict[str, Any] | None:
        results = dict(img_info=copy.deepcopy(self.data_infos[idx]))
        if not self.test_mode:
            results["ann_info"] = self.get_ann_info(idx)
        return self.pipeline(self.pre_pipeline(results))

    def _another(self, idx: int) -> int:
        return int(np.random.choice(len(self)))  # mmdet's _rand_another (one flag group)

    def eval_infos(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return ([{"filename": info["file_name"]} for info in self.data_infos],
                [self.get_ann_info(i) for i in range(len(self))])


def _class_names(classes: Sequence[str] | str) -> tuple[str, ...]:
    """mmdet's ``get_classes``: a list of names, or a file with one name per line."""
    if isinstance(classes, str):
        if not os.path.isfile(classes):
            raise UserError(f"classes: expected a list of names or a file of names (got "
                            f"{classes!r}, not a file)")
        with open(classes, encoding="utf-8") as f:
            return tuple(line.rstrip("\n") for line in f if line.rstrip("\n"))
    return tuple(classes)

"""``TextDetDataset``: text detection samples from JSON lines (MMOCR 0.x's ``instances_*.txt``).

One image per line, read through a loader and ``LineJsonParser`` as MMOCR's configs say::

    dict(type='TextDetDataset', img_prefix='data/ctw1500/imgs',
         ann_file='data/ctw1500/instances_training.txt',
         loader=dict(type='AnnFileLoader', repeat=1, file_format='txt',
                     parser=dict(type='LineJsonParser',
                                 keys=['file_name', 'height', 'width', 'annotations'])),
         pipeline=[...], test_mode=False)

    {"file_name": "a.jpg", "height": 720, "width": 1280, "annotations": [{"iscrowd": 0,
     "category_id": 1, "bbox": [x, y, w, h], "segmentation": [[x1, y1, ..., xk, yk]]}, ...]}

As in MMOCR, annotations are taken as they are (no area or category filtering; ``bbox`` and
``category_id`` pass through unchanged), ``iscrowd=1`` ones become ``bboxes_ignore`` /
``masks_ignore``, test samples carry their annotations too, and no image is filtered out. A
line or image that cannot be used is skipped in training (the next line is tried, as MMOCR
does) and is a one-line error in testing.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

import numpy as np

from ocr_ds.datasets.invalid import MALFORMED_ANNOTATION, InvalidSample, SkipCounter
from ocr_ds.datasets.textdet.base import DetDatasetBase
from ocr_ds.errors import UserError
from ocr_ds.registry import LOADERS, build


class TextDetDataset(DetDatasetBase):
    """Detection dataset over a JSON-lines annotation file (or lmdb of such lines).

    Args:
        ann_file: Annotation file path.
        loader: Loader config (``AnnFileLoader`` with ``LineJsonParser`` keys
            ``['file_name', 'height', 'width', 'annotations']``).
        pipeline: Steps (config dicts) run on each sample.
        img_prefix: Image directory. Defaults to ''.
        test_mode: Evaluation samples. Defaults to False.
        skip_invalid: In training, skip (count, warn once) samples that cannot be read
            instead of failing. Defaults to True.
    """

    def __init__(self, ann_file: str, loader: Mapping[str, Any],
                 pipeline: Sequence[Mapping[str, Any]] | None, img_prefix: str = "",
                 test_mode: bool = False, skip_invalid: bool = True):
        from ocr_ds.datasets.pipelines.compose import Compose

        if not isinstance(loader, Mapping):
            raise UserError(f"loader: expected a loader config dict (got {loader!r})")
        self.ann_file = ann_file
        self.img_prefix = img_prefix
        self.test_mode = test_mode
        self.skip_invalid = skip_invalid
        # ann_file passed apart from the loader's config: its errors name this dataset's key
        loader_cfg = {k: v for k, v in copy.deepcopy(dict(loader)).items() if k != "ann_file"}
        self.data_infos = build(LOADERS, loader_cfg, "loader", ann_file=ann_file)
        self.pipeline = Compose(pipeline, "pipeline")
        self.flag = np.zeros(len(self), dtype=np.uint8)
        self.CLASSES = 0
        self._skipped = SkipCounter(type(self).__name__)

    def __len__(self) -> int:
        return len(self.data_infos)

    def _info(self, index: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """(img_info, ann_info) of line ``index``; InvalidSample when it lacks a key."""
        line = self.data_infos[index]
        try:
            img_info = {"filename": line["file_name"], "height": line["height"],
                        "width": line["width"]}
            ann_info = parse_annotations(line["annotations"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(index),
                                f"{type(exc).__name__}: {exc}") from None
        return img_info, ann_info

    def prepare(self, idx: int) -> dict[str, Any] | None:
        img_info, ann_info = self._info(idx)
        results = dict(img_info=img_info, ann_info=ann_info, bbox_fields=[], mask_fields=[],
                       seg_fields=[], img_prefix=self.img_prefix)
        return self.pipeline(results)

    def _another(self, idx: int) -> int:
        return (idx + 1) % len(self)  # MMOCR's BaseDataset._get_next_index

    def eval_infos(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        img_infos, ann_infos = [], []
        for i in range(len(self)):
            try:
                img_info, ann_info = self._info(i)
            except InvalidSample as exc:
                raise exc.to_user_error() from None
            img_infos.append({"filename": img_info["filename"]})
            ann_infos.append(ann_info)
        return img_infos, ann_infos


def parse_annotations(annotations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """MMOCR's ``TextDetDataset._parse_anno_info``: boxes, labels and polygons as given."""
    bboxes, labels, bboxes_ignore, masks, masks_ignore = [], [], [], [], []
    for ann in annotations:
        if ann.get("iscrowd", False):
            bboxes_ignore.append(ann["bbox"])
            masks_ignore.append(ann.get("segmentation", None))
        else:
            bboxes.append(ann["bbox"])
            labels.append(ann["category_id"])
            masks.append(ann.get("segmentation", None))
    return dict(bboxes=_boxes(bboxes), labels=np.array(labels, dtype=np.int64),
                bboxes_ignore=_boxes(bboxes_ignore), masks_ignore=masks_ignore, masks=masks)


def _boxes(boxes: list) -> np.ndarray:
    return np.array(boxes, dtype=np.float32) if boxes else np.zeros((0, 4), dtype=np.float32)

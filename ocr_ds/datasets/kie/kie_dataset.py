"""``KIEDataset``: document images with labelled text boxes (MMOCR 0.6.3's, WildReceipt's format).

One image per JSON line, read through a loader and ``LineJsonParser``::

    {"file_name": "image_files/Image_16/11/receipt_0.jpeg", "height": 1200, "width": 1600,
     "annotations": [{"box": [x1, y1, x2, y2, x3, y3, x4, y4], "text": "SAFEWAY",
                      "label": 1, "edge": 0}, ...]}

Each box's 8 numbers are sorted clockwise from the top-left (then truncated to integers);
``texts`` are its characters' indices in ``dict_file`` (one character a line, from 1; characters
not in it are dropped, -1 pads); ``relations`` ``(n, n, 5)`` are, for boxes i and j (their
enclosing rectangles), ``(x_j - x_i) / norm``, ``(y_j - y_i) / norm``, ``w_i / h_i``,
``h_j / h_i``, ``w_j / h_i``; ``labels`` ``(n, n + 1)`` are the node label, then 1 where two
boxes share an ``edge`` id (-1 on the diagonal; with ``directed``, only from a label-1 box).
``evaluate``: ``macro_f1`` (:mod:`ocr_ds.metrics.kie_metric`).
"""
from __future__ import annotations

import os.path as osp
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ocr_ds.datasets.invalid import MALFORMED_ANNOTATION, InvalidSample
from ocr_ds.datasets.textdet.text_det_dataset import TextDetDataset
from ocr_ds.errors import UserError


def sort_vertex8(points: Sequence[float]) -> list[float]:
    """MMOCR's ``sort_vertex8``: 4 points clockwise (image coordinates) from the one nearest
    the top-left corner of their bounding box."""
    vertices = np.array(points, dtype=np.float32).reshape(-1, 2)
    center = np.mean(vertices, axis=0)
    directions = vertices - center
    vertices = vertices[np.argsort(np.arctan2(directions[:, 1], directions[:, 0]))]
    dists = np.linalg.norm(np.min(vertices, axis=0) - vertices, axis=-1, ord=2)
    indexes = (np.arange(len(vertices), dtype=int) + np.argmin(dists)) % len(vertices)
    return list(vertices[indexes].flatten())


def read_dict(dict_file: str) -> dict[str, int]:
    """``{'': 0, char: line number (from 1)}`` of a one-character-a-line file."""
    if not isinstance(dict_file, str) or not osp.isfile(dict_file):
        raise UserError(f"dict_file: expected an existing character file (got {dict_file!r})")
    with open(dict_file, encoding="utf-8") as f:
        lines = [line.rstrip("\n\r") for line in f]
    return {"": 0, **{line.rstrip("\r\n"): i for i, line in enumerate(lines, 1)}}


class KIEDataset(TextDetDataset):
    """Args as MMOCR's: ``ann_file``, ``loader`` (``HardDiskLoader`` + ``LineJsonParser`` with
    keys ``['file_name', 'height', 'width', 'annotations']``), ``dict_file``, ``img_prefix``
    (''), ``pipeline``, ``norm`` (10.), ``directed`` (False), ``test_mode`` (True);
    ``skip_invalid`` (True): skip (count) unusable training lines instead of failing."""

    def __init__(self, ann_file: str | None = None, loader: Mapping[str, Any] | None = None,
                 dict_file: str | None = None, img_prefix: str = "",
                 pipeline: Sequence[Mapping[str, Any]] | None = None, norm: float = 10.,
                 directed: bool = False, test_mode: bool = True, skip_invalid: bool = True):
        if ann_file is None and loader is None and pipeline is None and dict_file is not None:
            # MMOCR's KIEDataset(dict_file=...): only to turn annotations into model inputs
            self.norm, self.directed, self.dict = norm, directed, read_dict(dict_file)
            return
        if ann_file is None or not isinstance(loader, Mapping):
            raise UserError(f"loader: {type(self).__name__} needs ann_file and a loader config "
                            f"dict (got ann_file={ann_file!r}, loader={loader!r})")
        super().__init__(ann_file, loader, pipeline, img_prefix, test_mode, skip_invalid)
        self.norm = norm
        self.directed = directed
        self.dict = read_dict(dict_file)

    @classmethod
    def for_annotations(cls, dict_file: str, norm: float = 10.,
                        directed: bool = False) -> "KIEDataset":
        """A dataset without annotation file, only to turn annotations into model inputs
        (:meth:`_parse_anno_info`): MMOCR's ``KIEDataset(dict_file=...)`` in its ``ocr.py``
        (which that call also gives)."""
        return cls(dict_file=dict_file, norm=norm, directed=directed)

    # ---------------------------------------------------------------- annotations

    def _line(self, index: int) -> dict[str, Any]:
        line = self.data_infos[index]
        if not isinstance(line.get("annotations"), list) or not line["annotations"]:
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(index),
                                "expected a non-empty list of annotations")
        return line

    def pre_pipeline(self, results: dict[str, Any]) -> None:
        results["img_prefix"] = self.img_prefix
        results["bbox_fields"] = []
        results["ori_texts"] = results["ann_info"]["ori_texts"]
        results["filename"] = osp.join(self.img_prefix, results["img_info"]["filename"])
        results["ori_filename"] = results["img_info"]["filename"]
        results["img"] = np.zeros((0, 0, 0), dtype=np.uint8)   # replaced by an image loader

    def prepare(self, idx: int) -> dict[str, Any] | None:
        line = self._line(idx)
        try:
            img_info = {"filename": line["file_name"], "height": line["height"],
                        "width": line["width"]}
            ann_info = self._parse_anno_info(line["annotations"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise InvalidSample(MALFORMED_ANNOTATION, self.data_infos.where(idx),
                                f"{type(exc).__name__}: {exc}") from None
        results = dict(img_info=img_info, ann_info=ann_info)
        self.pre_pipeline(results)
        return self.pipeline(results)

    def _parse_anno_info(self, annotations: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        boxes, texts, text_inds, labels, edges = [], [], [], [], []
        for ann in annotations:
            boxes.append(sort_vertex8(ann["box"][:8]))
            texts.append(ann["text"])
            text_inds.append([self.dict[c] for c in ann["text"] if c in self.dict])
            labels.append(ann.get("label", 0))
            edges.append(ann.get("edge", 0))
        return self.list_to_numpy(dict(boxes=boxes, texts=texts, text_inds=text_inds,
                                       edges=edges, labels=labels))

    def list_to_numpy(self, ann_infos: dict[str, Any]) -> dict[str, Any]:
        boxes = np.array(ann_infos["boxes"], np.int32)
        relations, bboxes = self.compute_relation(boxes)
        labels = ann_infos.get("labels", None)
        if labels is not None:
            labels = np.array(labels, np.int32)
            edges = ann_infos.get("edges", None)
            if edges is not None:
                labels = labels[:, None]
                edges = np.array(edges)
                edges = (edges[:, None] == edges[None, :]).astype(np.int32)
                if self.directed:
                    edges = (edges & labels == 1).astype(np.int32)
                np.fill_diagonal(edges, -1)
                labels = np.concatenate([labels, edges], -1)
        return dict(bboxes=bboxes, relations=relations,
                    texts=self.pad_text_indices(ann_infos["text_inds"]),
                    ori_texts=ann_infos["texts"], labels=labels)

    @staticmethod
    def pad_text_indices(text_inds: Sequence[Sequence[int]]) -> np.ndarray:
        max_len = max(len(t) for t in text_inds)
        padded = -np.ones((len(text_inds), max_len), np.int32)
        for i, t in enumerate(text_inds):
            padded[i, :len(t)] = np.array(t)
        return padded

    def compute_relation(self, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(n, n, 5)`` relations and the ``(n, 4)`` enclosing rectangles of ``boxes``."""
        bboxes = np.concatenate([boxes[:, 0::2].min(axis=1, keepdims=True),
                                 boxes[:, 1::2].min(axis=1, keepdims=True),
                                 boxes[:, 0::2].max(axis=1, keepdims=True),
                                 boxes[:, 1::2].max(axis=1, keepdims=True)],
                                axis=1).astype(np.float32)
        x1, y1 = bboxes[:, 0:1], bboxes[:, 1:2]
        x2, y2 = bboxes[:, 2:3], bboxes[:, 3:4]
        w, h = np.maximum(x2 - x1 + 1, 1), np.maximum(y2 - y1 + 1, 1)
        dx = (x1.T - x1) / self.norm
        dy = (y1.T - y1) / self.norm
        xhh, xwh = h.T / h, w.T / h
        whs = w / h + np.zeros_like(xhh)
        relation = np.stack([dx, dy, whs, xhh, xwh], -1).astype(np.float32)
        return relation, bboxes

    def annotations(self) -> list[list[dict[str, Any]]]:
        """Every image's annotation list, in order (a bad line is a one-line error)."""
        out = []
        for i in range(len(self)):
            try:
                out.append(self._line(i)["annotations"])
            except InvalidSample as exc:
                raise exc.to_user_error() from None
        return out

    # ---------------------------------------------------------------- evaluation

    METRIC = "macro_f1"         # the one metric name, and the keys it gives
    METRIC_KEYS = ("macro_f1",)

    @classmethod
    def metric_keys(cls, metric: str | Sequence[str] | None, key: str = "evaluation.metric"
                    ) -> list[str]:
        names = [metric] if isinstance(metric, str) else list(metric or [cls.METRIC])
        wrong = [m for m in names if m != cls.METRIC]
        if wrong:
            raise UserError(f"{key}: expected {cls.METRIC!r} for {cls.__name__} (got "
                            f"{wrong[0]!r})")
        return list(cls.METRIC_KEYS)

    def evaluate(self, results: Sequence[Mapping[str, Any]], metric: str | list = "macro_f1",
                 metric_options: Mapping[str, Any] | None = dict(  # noqa: B006
                     macro_f1=dict(ignores=[])), logger: Any = None) -> dict[str, float]:
        """``macro_f1`` of ``results`` (one ``{'nodes': (n, C) scores}`` per image, in order);
        ``metric_options=dict(macro_f1=dict(ignores=[classes left out of the mean]))``."""
        self.metric_keys(metric)
        if len(results) != len(self):
            raise UserError(f"evaluate: {len(results)} results for {len(self)} images of "
                            f"{self.ann_file}")
        options = dict((metric_options or {}).get("macro_f1") or {})
        unknown = sorted(set(options) - {"ignores"})
        if unknown:
            raise UserError(f"evaluation.metric_options.macro_f1: expected only 'ignores' (got "
                            f"{', '.join(unknown)})")
        return self.compute_macro_f1(results, ignores=options.get("ignores", []))

    def compute_macro_f1(self, results: Sequence[Mapping[str, Any]],
                         ignores: Sequence[int] = ()) -> dict[str, float]:
        from ocr_ds.metrics.kie_metric import compute_f1_score

        node_preds, node_gts = [], []
        for result, annos in zip(results, self.annotations()):
            node_preds.append(torch.as_tensor(result["nodes"], dtype=torch.float32).cpu())
            node_gts.append(torch.Tensor([a["label"] for a in annos]))
        f1s = compute_f1_score(torch.cat(node_preds), torch.cat(node_gts).int(), ignores)
        return {"macro_f1": float(f1s.mean())}

"""``OpensetKIEDataset``: boxes classed background / key / value / other, and which key goes
with which value (MMOCR 0.6.3's open-set WildReceipt): ``evaluate`` with ``openset_f1``."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch

from ocr_ds.datasets.kie.kie_dataset import KIEDataset
from ocr_ds.errors import UserError
from ocr_ds.metrics.kie_metric import (LINK_TYPES, compute_openset_f1, decode_pairs_gt,
                                       decode_pairs_pred)

class OpensetKIEDataset(KIEDataset):
    """Args as MMOCR's: ``ann_file``, ``loader``, ``dict_file``, ``img_prefix``, ``pipeline``,
    ``norm``, ``link_type`` ('one-to-one', 'one-to-many', 'many-to-one', 'many-to-many' or
    'none': how predicted links become key-value pairs), ``edge_thr`` (0.5), ``test_mode``,
    ``key_node_idx`` (1), ``value_node_idx`` (2), ``node_classes`` (4); ``skip_invalid``."""

    METRIC = "openset_f1"
    METRIC_KEYS = ("edge_openset_f1", "node_openset_micro_f1", "node_openset_macro_f1")

    def __init__(self, ann_file: str, loader: Mapping[str, Any], dict_file: str,
                 img_prefix: str = "", pipeline: Sequence[Mapping[str, Any]] | None = None,
                 norm: float = 10., link_type: str = "one-to-one", edge_thr: float = 0.5,
                 test_mode: bool = True, key_node_idx: int = 1, value_node_idx: int = 2,
                 node_classes: int = 4, skip_invalid: bool = True):
        super().__init__(ann_file, loader, dict_file, img_prefix, pipeline, norm, False,
                         test_mode, skip_invalid)
        if link_type not in LINK_TYPES:
            raise UserError(f"link_type: expected one of {', '.join(LINK_TYPES)} (got "
                            f"{link_type!r})")
        self.link_type = link_type
        self.edge_thr = edge_thr
        self.key_node_idx = key_node_idx
        self.value_node_idx = value_node_idx
        self.node_classes = node_classes

    def pre_pipeline(self, results: dict[str, Any]) -> None:
        super().pre_pipeline(results)
        results["ori_bboxes"] = results["ann_info"]["ori_bboxes"]

    def list_to_numpy(self, ann_infos: dict[str, Any]) -> dict[str, Any]:
        results = super().list_to_numpy(ann_infos)
        results.update(ori_texts=ann_infos["texts"], ori_bboxes=ann_infos["boxes"])
        return results

    def evaluate(self, results: Sequence[Mapping[str, Any]],  # type: ignore[override]
                 metric: str | list = "openset_f1", metric_options: Any = None,
                 logger: Any = None) -> dict[str, float]:
        """``edge_openset_f1``, ``node_openset_micro_f1``, ``node_openset_macro_f1`` of
        ``results`` (per image ``{'nodes': (n, C), 'edges': (n * n, 2)}``, in order)."""
        self.metric_keys(metric)
        if len(results) != len(self):
            raise UserError(f"evaluate: {len(results)} results for {len(self)} images of "
                            f"{self.ann_file}")
        preds, gts = [], []
        for result, annos in zip(results, self.annotations()):
            preds.append(self.decode_pred(result))
            gts.append(self.decode_gt(annos))
        return {k: float(v) for k, v in compute_openset_f1(preds, gts, self.node_classes).items()}

    def decode_pred(self, result: Mapping[str, Any]) -> dict[str, Any]:
        """Predicted labels (argmax) and key-value pairs of one image."""
        nodes = torch.as_tensor(result["nodes"], dtype=torch.float32).cpu()
        labels_conf, labels = torch.max(nodes, dim=-1)
        num_nodes = nodes.size(0)
        edges = torch.as_tensor(result["edges"], dtype=torch.float32)[:, -1].view(
            num_nodes, num_nodes).cpu()
        pairs, pairs_conf = decode_pairs_pred(nodes, labels, edges, self.edge_thr,
                                              self.link_type)
        return dict(labels=labels.tolist(), labels_conf=labels_conf.tolist(), pairs=pairs,
                    pairs_conf=pairs_conf)

    def decode_gt(self, annos: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        labels = torch.Tensor([a["label"] for a in annos])
        pairs = decode_pairs_gt(labels, [a["edge"] for a in annos], self.key_node_idx,
                                self.value_node_idx)
        return dict(labels=labels.tolist(), pairs=pairs)

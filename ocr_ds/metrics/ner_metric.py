"""MMOCR 0.6.3's NER metric (``eval_ner_f1``): entity-level precision, recall and F1.

An entity is ``[category, start, end]``; a prediction counts as right when the same list is among
the text's ground-truth entities. Returns ``{category: {'precision', 'recall', 'f1-score'}, ...,
'all': {...}}``: one entry per category that occurs in the ground truth (in order of first
occurrence), then ``'all'`` over every entity.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence


def gt_label2entity(gt_infos: Sequence[Mapping[str, Any]]) -> list[list[list]]:
    """``[[category, start, end], ...]`` of every text's ``label`` annotation."""
    gt_entities = []
    for gt_info in gt_infos:
        line_entities = []
        for key, value in gt_info["label"].items():
            for _, places in value.items():
                for place in places:
                    line_entities.append([key, place[0], place[1]])
        gt_entities.append(line_entities)
    return gt_entities


def _compute_f1(origin: int, found: int, right: int) -> tuple[float, float, float]:
    recall = 0 if origin == 0 else (right / origin)
    precision = 0 if found == 0 else (right / found)
    f1 = 0. if recall + precision == 0 else (2 * precision * recall) / (precision + recall)
    return recall, precision, f1


def compute_f1_all(pred_entities: Sequence[Sequence], gt_entities: Sequence[Sequence]
                   ) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per ground-truth category and over all (``'all'``)."""
    origins: list = []
    founds: list = []
    rights: list = []
    for i, _ in enumerate(pred_entities):
        origins.extend(gt_entities[i])
        founds.extend(pred_entities[i])
        rights.extend([e for e in pred_entities[i] if e in gt_entities[i]])
    class_info: dict[str, dict[str, float]] = {}
    found_counter = Counter([x[0] for x in founds])
    right_counter = Counter([x[0] for x in rights])
    for type_, count in Counter([x[0] for x in origins]).items():
        recall, precision, f1 = _compute_f1(count, found_counter.get(type_, 0),
                                            right_counter.get(type_, 0))
        class_info[type_] = {"precision": precision, "recall": recall, "f1-score": f1}
    recall, precision, f1 = _compute_f1(len(origins), len(founds), len(rights))
    class_info["all"] = {"precision": precision, "recall": recall, "f1-score": f1}
    return class_info


def eval_ner_f1(results: Sequence[Sequence], gt_infos: Sequence[Mapping[str, Any]]
                ) -> dict[str, dict[str, float]]:
    """The metrics of ``results`` (one list of predicted entities per text) against
    ``gt_infos`` (one ``{'text', 'label'}`` per text)."""
    if len(results) != len(gt_infos):
        raise ValueError(f"eval_ner_f1: {len(results)} results for {len(gt_infos)} texts")
    gt_entities = gt_label2entity(gt_infos)
    pred_entities = [[list(r) for r in results[i]] for i in range(len(gt_infos))]
    return compute_f1_all(pred_entities, gt_entities)
